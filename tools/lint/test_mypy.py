"""mypy (pinned in requirements.txt) on the contracts and the host: ktstr/wire, ktstr/host
(pyproject.toml [tool.mypy]: --strict)."""

import subprocess
import sys

from tools.lint.source_tree import root


def test_mypy_is_clean(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
                           "--python-executable", sys.executable], cwd=root(), capture_output=True, text=True)
    assert proc.returncode == 0, f"mypy findings:\n{proc.stdout}{proc.stderr}"
    assert "Success" in proc.stdout
