"""The import layering of ktstr (tools/lint/layering.py), and the gate shown failing on
planted packages: a lazy-import cycle, wire importing ktstr, guest importing host."""

from pathlib import Path

from tools.lint.layering import cycles, import_edges, violations
from tools.lint.planted import write_package
from tools.lint.source_tree import root


def test_ktstr_layering_holds():
    found = violations(root() / "ktstr", "ktstr")
    assert not found, "import layering broken (tools/lint/layering.py says why each rule holds):\n" + \
        "\n".join(found)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_package(tmp_path, {"__init__.py": "", **files})


def test_a_cycle_hidden_in_a_function_is_found(tmp_path):
    pkg = _package(tmp_path, {
        "a/__init__.py": "",
        "a/x.py": "from pkg.b.y import g\n",
        "b/__init__.py": "",
        "b/y.py": "def g():\n    from ..a import x\n    return x\n",
        "c.py": "import pkg.a.x\n",
    })
    assert cycles(import_edges(pkg, "pkg")) == [["a", "b"]]
    (found,) = violations(pkg, "pkg")
    assert "import cycle among a, b" in found
    assert "b -> a (pkg/b/y.py:2, in a function)" in found


def test_import_module_with_a_literal_name_counts(tmp_path):
    pkg = _package(tmp_path, {
        "a.py": "from importlib import import_module\ndef f():\n    return import_module('pkg.b')\n",
        "b.py": "from pkg import a\n",
    })
    assert cycles(import_edges(pkg, "pkg")) == [["a", "b"]]


def test_wire_importing_more_than_errors_fails(tmp_path):
    pkg = _package(tmp_path, {
        "errors.py": "",
        "topology.py": "",
        "wire/__init__.py": "",
        "wire/ok.py": "from pkg.errors import E\n",
        "wire/bad.py": "from pkg import topology\n",
    })
    (found,) = violations(pkg, "pkg")
    assert found.startswith("wire -> topology (pkg/wire/bad.py:1): wire may import only ['errors']")


def test_guest_importing_host_and_anything_importing_cli_fail(tmp_path):
    pkg = _package(tmp_path, {
        "host/__init__.py": "",
        "guest/__init__.py": "",
        "guest/agent.py": "from ..host import runner\n",
        "host/runner.py": "",
        "cli/__init__.py": "",
        "compare.py": "from pkg.cli import main\n",
        "cli/main.py": "",
    })
    found = violations(pkg, "pkg")
    assert any(v.startswith("guest -> host (pkg/guest/agent.py:1): guest must never import host") for v in found)
    assert any(v.startswith("compare -> cli (pkg/compare.py:1): cli holds the entry points") for v in found)
    assert len(found) == 2
