"""ktstr's exceptions have one root (tools/lint/exceptions.py), and the gate shown failing
on planted packages: a class outside the root, a bare ValueError in host/, a broad tuple."""

from pathlib import Path

from tools.lint.exceptions import violations
from tools.lint.planted import write_package
from tools.lint.source_tree import root


def test_ktstr_exceptions_have_one_root():
    found = violations(root() / "ktstr")
    assert not found, "exceptions outside KtstrError (tools/lint/exceptions.py says why):\n" + "\n".join(found)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_package(tmp_path, {"errors.py": "class KtstrError(Exception):\n    pass\n", **files})


def test_a_clean_package_passes(tmp_path):
    pkg = _package(tmp_path, {
        "host/request.py": """\
            from pkg.errors import KtstrError
            class RequestError(KtstrError, ValueError):
                pass
            class Narrower(RequestError):
                pass
            def f():
                try:
                    raise Narrower("x")
                except (RequestError, OSError):
                    raise
            """,
        "guest/io.py": "import os\ndef g(err):\n    raise OSError(err, os.strerror(err))\n",
    })
    assert violations(pkg) == []


def test_an_error_class_outside_the_root_fails(tmp_path):
    pkg = _package(tmp_path, {
        "compare/load.py": ("class CompareInputError(ValueError):\n    pass\n"
                            "class Worse(CompareInputError):\n    pass\n"),
    })
    assert violations(pkg) == [
        "pkg/compare/load.py:1: class CompareInputError(ValueError) does not derive from KtstrError",
        "pkg/compare/load.py:3: class Worse(CompareInputError) does not derive from KtstrError",
    ]


def test_bare_builtins_fail_where_forbidden(tmp_path):
    pkg = _package(tmp_path, {
        "host/request.py": "def f():\n    raise ValueError('bad')\n",
        "wire/frames.py": "def f():\n    raise KeyError\n",
        "scenario/model.py": ("def f():\n    raise RuntimeError('x')\n\n"
                              "def g():\n    raise TypeError('a programming error')\n"),
    })
    found = violations(pkg)
    assert [v.split(": raise")[0] for v in found] == [
        "pkg/host/request.py:2", "pkg/scenario/model.py:2", "pkg/wire/frames.py:2"]
    assert "raise a KtstrError subclass" in found[0]


def test_a_broad_tuple_beside_the_root_fails(tmp_path):
    pkg = _package(tmp_path, {
        "cli/main.py": """\
            from pkg.errors import KtstrError
            def main():
                try:
                    pass
                except (KtstrError, ValueError, OSError):
                    return 2
            """,
    })
    (found,) = violations(pkg)
    assert found.startswith("pkg/cli/main.py:5: except (KtstrError, ValueError, OSError)")
    assert "a ValueError here would be a bug's" in found
