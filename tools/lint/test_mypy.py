"""mypy (pinned in requirements.txt) on every package of ktstr (pyproject.toml [tool.mypy]:
--strict, with the packages whose functions are not all typed yet, and each module's known
findings, listed there)."""

import subprocess
import sys

from tools.lint.source_tree import root


def test_mypy_is_clean(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
                           "--python-executable", sys.executable], cwd=root(), capture_output=True, text=True)
    assert proc.returncode == 0, f"mypy findings:\n{proc.stdout}{proc.stderr}"
    assert "Success" in proc.stdout


def test_mypy_fails_on_a_planted_fault(tmp_path):
    """The project's configuration, on a module of no listed package: --strict holds there,
    so an untyped function and a wrong type both fail."""
    bad = tmp_path / "planted.py"
    bad.write_text("def untyped(x):\n    return x\n\n\ncount: int = 'three'\n")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(root() / "pyproject.toml"),
                           "--cache-dir", str(tmp_path / "cache"), str(bad)], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "planted.py:1: error: Function is missing a type annotation  [no-untyped-def]" in proc.stdout
    assert "planted.py:5: error: Incompatible types in assignment" in proc.stdout
