"""The newc writer: deterministic, sorted, fixed owners/mtimes, device nodes, readable by cpio."""

import gzip
import shutil
import stat
import subprocess

import pytest

from ktstr.initramfs.cpio import Archive, CpioError, read_entries


def sample(tmp_path) -> Archive:
    src = tmp_path / "tool"
    src.write_bytes(b"\x7fELF fake" * 100)
    src.chmod(0o755)
    a = Archive()
    a.add_standard_devices()
    a.add_file("/usr/bin/tool", src)
    a.add_bytes("/etc/motd", "hello\n")
    a.add_symlink("/bin", "usr/bin")
    a.add_dir("/tmp", 0o1777)
    return a


def test_entries_sorted_with_implied_parents(tmp_path):
    a = sample(tmp_path)
    out = tmp_path / "a.cpio"
    a.write(out)
    names = [e[0] for e in read_entries(out.read_bytes())]
    assert names == sorted(names)
    assert {"usr", "usr/bin", "etc", "dev"} <= set(names)


def test_header_fields_are_fixed(tmp_path):
    out = tmp_path / "a.cpio"
    sample(tmp_path).write(out)
    data = out.read_bytes()
    pos = 0
    while data[pos:pos + 6] == b"070701":
        fields = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        uid, gid, mtime = fields[2], fields[3], fields[5]
        assert (uid, gid, mtime) == (0, 0, 0)
        namesize, size = fields[11], fields[6]
        pos += 110 + namesize
        pos += (-pos) % 4
        pos += size
        pos += (-pos) % 4
    assert data[pos - 512:].find(b"TRAILER!!!") >= 0


def test_device_nodes_and_modes(tmp_path):
    out = tmp_path / "a.cpio"
    sample(tmp_path).write(out)
    entries = {e[0]: e for e in read_entries(out.read_bytes())}
    console = entries["dev/console"]
    assert stat.S_ISCHR(console[1]) and console[3] == (5, 1)
    assert entries["dev/null"][3] == (1, 3)
    assert stat.S_IMODE(entries["usr/bin/tool"][1]) == 0o755
    assert stat.S_IMODE(entries["tmp"][1]) == 0o1777
    assert stat.S_ISLNK(entries["bin"][1]) and entries["bin"][2] == b"usr/bin"


def test_two_writes_are_byte_identical(tmp_path):
    for compression in ("none", "gzip"):
        a, b = tmp_path / f"a.{compression}", tmp_path / f"b.{compression}"
        sample(tmp_path).write(a, compression)
        sample(tmp_path).write(b, compression)
        assert a.read_bytes() == b.read_bytes()


def test_gzip_member_unpacks_to_the_plain_archive(tmp_path):
    sample(tmp_path).write(tmp_path / "p.cpio")
    sample(tmp_path).write(tmp_path / "g.cpio.gz", "gzip")
    assert gzip.decompress((tmp_path / "g.cpio.gz").read_bytes()) == (tmp_path / "p.cpio").read_bytes()


def test_gnu_cpio_reads_it(tmp_path):
    if shutil.which("cpio") is None:
        pytest.skip("GNU cpio (Debian package cpio) is not installed: no independent reader")
    out = tmp_path / "a.cpio"
    sample(tmp_path).write(out)
    listing = subprocess.run(["cpio", "-it", "--quiet"], stdin=out.open("rb"), capture_output=True,
                             text=True, check=True).stdout.split()
    assert listing == sorted(e[0] for e in read_entries(out.read_bytes()))
    extract = tmp_path / "x"
    extract.mkdir()
    # Only the regular file: creating device nodes needs privileges a test sandbox lacks.
    subprocess.run(["cpio", "-id", "--quiet", "--no-absolute-filenames", "etc/motd"],
                   stdin=out.open("rb"), cwd=extract, check=True)
    assert (extract / "etc/motd").read_text() == "hello\n"


def test_conflicting_duplicate_is_an_error(tmp_path):
    a = Archive()
    a.add_bytes("/etc/x", "one")
    a.add_bytes("/etc/x", "one")  # identical: fine
    with pytest.raises(CpioError, match="/etc/x added twice"):
        a.add_bytes("/etc/x", "two")


def test_file_under_a_non_directory_is_an_error():
    a = Archive()
    a.add_bytes("/etc", "not a dir")
    with pytest.raises(CpioError, match="needs it to be a directory"):
        a.add_bytes("/etc/x", "y")


@pytest.mark.parametrize("bad", ["", "/", "../etc", "/a/../../b"])
def test_bad_paths_are_rejected(bad):
    with pytest.raises(CpioError):
        Archive().add_bytes(bad, "x")


def test_host_path_keeps_symlinks(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "lib.so").write_bytes(b"x")
    (tmp_path / "link").symlink_to("real")
    a = Archive()
    added = a.add_host_path(str(tmp_path / "link" / "lib.so"))
    assert added == str(real / "lib.so")
    out = tmp_path / "a.cpio"
    a.write(out)
    entries = {e[0]: e for e in read_entries(out.read_bytes())}
    link = str(tmp_path / "link").lstrip("/")
    assert stat.S_ISLNK(entries[link][1]) and entries[link][2] == b"real"
