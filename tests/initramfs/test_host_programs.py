"""Payload programs from the host's Debian packages, packed with their library closure."""

import json
import shutil

import pytest

from ktstr.initramfs import pack
from ktstr.initramfs.cpio import CpioError


@pytest.mark.skipif(shutil.which("hackbench") is None, reason="rt-tests is not installed (tools/debian-packages.txt)")
def test_a_host_program_comes_with_its_libraries(tmp_path):
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"devices": False, "host_programs": ["hackbench"]}))
    listing = tmp_path / "list"
    assert pack.main(["--manifest", str(manifest), "--out", str(tmp_path / "o.cpio"), "--list", str(listing)]) == 0
    paths = listing.read_text().split()
    assert "/usr/bin/hackbench" in paths
    assert any("libc.so" in p for p in paths) and any("ld-linux" in p for p in paths)


def test_a_missing_program_names_its_package():
    with pytest.raises(CpioError, match="install rt-tests"):
        pack.HOST_PROGRAM_PACKAGES["no-such-program-x"] = "rt-tests"
        try:
            pack.find_host_program("no-such-program-x")
        finally:
            del pack.HOST_PROGRAM_PACKAGES["no-such-program-x"]
    with pytest.raises(CpioError, match="not a path"):
        pack.find_host_program("/usr/bin/hackbench")
