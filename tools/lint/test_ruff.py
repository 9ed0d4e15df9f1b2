"""ruff (pinned in requirements.txt, configured in pyproject.toml) finds nothing."""

import subprocess
import sys

from tools.lint.source_tree import LINT_ROOTS, root


def test_ruff_is_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           *LINT_ROOTS], cwd=root(), capture_output=True, text=True)
    assert proc.returncode == 0, (f"ruff findings (fix them; `python -m ruff check --fix` fixes some):\n"
                                  f"{proc.stdout}{proc.stderr}")


def test_ruff_fails_on_a_planted_fault(tmp_path):
    """The project's rules on planted bugs: a mutable default (bugbear), a blind except
    without its reason (BLE), a stale suppression (RUF100), two strings glued on one line
    by a missing comma (ISC001)."""
    bad = tmp_path / "planted.py"
    bad.write_text("def f(xs=[]):\n    try:\n        return xs\n    except Exception:\n        return None\n\n\n"
                   "ok = 1  # noqa: E501\nargs = ['-a' '-b']\n")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "--config", str(root() / "pyproject.toml"), str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for code in ("B006", "BLE001", "RUF100", "ISC001"):
        assert f" {code} " in proc.stdout, (code, proc.stdout)
