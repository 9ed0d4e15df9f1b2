"""The VMM's C sources are formatted as vmm/.clang-format says (Debian's clang-format-19).

Fix a failure with: clang-format-19 -i --style=file:vmm/.clang-format <the files named>
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CLANG_FORMAT = "clang-format-19"
STYLE = Path("vmm/.clang-format")


def sources() -> list[Path]:
    return sorted(p for pattern in ("*.c", "*.h") for p in Path("vmm").rglob(pattern))


def test_every_c_file_is_formatted():
    tool = shutil.which(CLANG_FORMAT)
    assert tool, f"{CLANG_FORMAT} not found: install Debian's clang-format-19 (tools/debian-packages.txt)"
    files = sources()
    assert len(files) >= 25, f"only {len(files)} C files found under vmm/: the data glob is broken"
    proc = subprocess.run([tool, "--dry-run", "--Werror", f"--style=file:{STYLE}", *map(str, files)],
                          capture_output=True, text=True, timeout=120)
    bad = sorted({line.split(":", 1)[0] for line in proc.stderr.splitlines() if ": error:" in line})
    assert proc.returncode == 0, (f"not formatted: {bad}\nfix: {CLANG_FORMAT} -i --style=file:{STYLE} "
                                  + " ".join(bad) + "\n" + proc.stderr[-3000:])


def test_the_check_catches_a_misformatted_file(tmp_path):
    tool = shutil.which(CLANG_FORMAT)
    assert tool, f"{CLANG_FORMAT} not found"
    bad = tmp_path / "bad.c"
    bad.write_text("int  f( void ){return 1;}\n")
    proc = subprocess.run([tool, "--dry-run", "--Werror", f"--style=file:{STYLE.resolve()}", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "bad.c" in proc.stderr and "clang-format-violations" in proc.stderr, proc.stderr
