"""LICENSE matches what the sources say: every SPDX tag in the tree names GPL-2.0, the
license LICENSE carries."""

import re

from tools.lint.source_tree import root

SOURCE_DIRS = ("ktstr", "rules", "schedulers", "sched", "tests", "tools", "vmm", "kernels", "initramfs")


def test_every_spdx_tag_is_the_license_file():
    base = root()
    tags = {}
    for top in SOURCE_DIRS:
        for path in (base / top).rglob("*"):
            if path.is_file() and path.suffix in (".c", ".h", ".S", ".py", ".bzl", ".sh"):
                m = re.search(r"SPDX-License-Identifier:\s*([\w.+-]+)", path.read_text(errors="replace"))
                if m and path.name != "test_license.py":
                    tags[str(path.relative_to(base))] = m.group(1)
    assert tags, "no SPDX tag found: the C sources carry them"
    assert set(tags.values()) == {"GPL-2.0"}, {p: t for p, t in tags.items() if t != "GPL-2.0"}
    text = (base / "LICENSE").read_text()
    assert "GNU GENERAL PUBLIC LICENSE\n                       Version 2, June 1991" in text
