"""ruff (pinned in requirements.txt, configured in pyproject.toml) finds nothing."""

import subprocess
import sys

from tools.lint.source_tree import LINT_ROOTS, root


def test_ruff_is_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           *LINT_ROOTS], cwd=root(), capture_output=True, text=True)
    assert proc.returncode == 0, f"ruff findings (fix them; `python -m ruff check --fix` fixes some):\n" \
                                 f"{proc.stdout}{proc.stderr}"
