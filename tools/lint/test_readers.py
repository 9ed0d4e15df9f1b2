"""Each wire format has one reader (tools/lint/readers.py), and the gate shown failing on a
planted second reader."""

from __future__ import annotations

from pathlib import Path

from tools.lint.planted import write_package
from tools.lint.readers import FORMATS, violations
from tools.lint.source_tree import root


def test_each_format_is_read_by_its_wire_module_only():
    found = violations(root() / "ktstr")
    assert not found, "a format read outside its home (tools/lint/readers.py):\n" + "\n".join(found)


def test_every_home_exists_and_reads_its_format():
    # A home that moved would leave the gate checking a name nothing has.
    for fmt in FORMATS:
        home = root() / "ktstr" / fmt.home
        assert home.is_file(), fmt.home
        assert fmt.markers.search(home.read_text()), f"{fmt.home} does not name {fmt.name}"


def _pkg(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_package(tmp_path, {"wire/results.py": "import json\ndef read_result(p):\n"
                                                       "    return json.loads(open(p).read())  # result.json\n",
                                    **files})


def test_the_home_may_read_its_format(tmp_path):
    assert violations(_pkg(tmp_path, {})) == []


def test_a_planted_second_result_reader_fails(tmp_path):
    pkg = _pkg(tmp_path, {"cli/show.py": """\
        import json
        from pathlib import Path
        def show(out):
            def unrelated(x):
                return x
            boots = json.loads((Path(out) / "result.json").read_text())["boots"]
            return boots
        """})
    [found] = violations(pkg)
    assert "pkg/cli/show.py:6 show() parses result.json" in found and "pkg/wire/results.py" in found


def test_a_planted_key_value_reader_of_the_vmm_report_fails(tmp_path):
    pkg = _pkg(tmp_path, {"host/engines/nested.py": """\
        def report(text):
            # the VMM's exit report, again
            return dict(line.partition("=")[::2] for line in text.splitlines())
        """})
    [found] = violations(pkg)
    assert "parses the VMM exit report" in found


def test_a_planted_target_config_reader_fails(tmp_path):
    # What ktstr/cli/bazel_compare.py did before wire/target_config.py.
    pkg = _pkg(tmp_path, {"wire/target_config.py": "", "cli/compare.py": """\
        import json
        from pathlib import Path
        def sides(paths):
            for path in paths:
                cfg = json.loads(Path(path).read_text())
                yield cfg
        """})
    [found] = violations(pkg)
    assert "sides() parses the target config" in found


def test_a_parse_of_something_else_passes(tmp_path):
    pkg = _pkg(tmp_path, {"host/options.py": """\
        import json
        def monitor_options(items):
            return dict(i.split("=", 1) for i in items)
        def layout(p):
            return json.loads(open(p).read())
        """})
    assert violations(pkg) == []
