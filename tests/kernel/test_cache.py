"""The kernel cache: keys, atomic install, concurrent installers, list and clean."""

import json
import multiprocessing
import os
import time

import pytest

from ktstr.kernel.cache import CacheKey, KernelCache, config_sha256, default_root, source_sha256
from ktstr.kernel.kconfig import parse_fragment_text


@pytest.fixture
def artifacts(tmp_path):
    files = {}
    for name, data in (("bzImage", b"MZ kernel"), ("vmlinux", b"\x7fELF"), ("config", b"CONFIG_A=y\n"),
                       ("release", b"6.12.117\n")):
        path = tmp_path / "out" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        files[name] = path
    return files


KEY = CacheKey("a" * 64, "b" * 64)


def test_install_then_lookup_and_list(tmp_path, artifacts):
    cache = KernelCache(tmp_path / "cache")
    assert cache.lookup(KEY) is None
    entry = cache.install(KEY, artifacts, "6.12.117", "test")
    assert entry.path == tmp_path / "cache" / KEY.name
    assert entry.file("bzImage").read_bytes() == b"MZ kernel"
    assert cache.lookup(KEY) == entry
    assert [e.key for e in cache.list()] == [KEY]
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".tmp-")]


def test_key_depends_on_source_and_config(tmp_path):
    tarball = tmp_path / "linux.tar"
    tarball.write_bytes(b"one")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("x")
    first = source_sha256(tree)
    (tree / "sub" / "f").write_text("y")
    assert source_sha256(tree) != first
    assert source_sha256(tarball) == "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"
    y = parse_fragment_text("CONFIG_A=y\n", "f")
    n = parse_fragment_text("# CONFIG_A is not set\n", "f")
    assert config_sha256("tinyconfig", y) != config_sha256("tinyconfig", n)
    assert config_sha256("tinyconfig", y) != config_sha256("defconfig", y)


def test_entry_without_metadata_is_invisible_and_cleaned(tmp_path, artifacts):
    cache = KernelCache(tmp_path)
    broken = tmp_path / KEY.name
    broken.mkdir()
    (broken / "bzImage").write_bytes(b"half")
    assert cache.lookup(KEY) is None
    assert cache.list() == []
    assert cache.clean(keep=10) == [broken]
    assert cache.install(KEY, artifacts, "6.12.117").file("bzImage").read_bytes() == b"MZ kernel"


def test_failed_install_leaves_nothing(tmp_path, artifacts):
    cache = KernelCache(tmp_path)
    bad = dict(artifacts, vmlinux=tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        cache.install(KEY, bad, "6.12.117")
    assert list(tmp_path.iterdir()) == [tmp_path / "out"]
    with pytest.raises(ValueError, match="unknown cache entry files"):
        cache.install(KEY, {"kernel.img": artifacts["bzImage"]}, "x")


def _install(root, artifacts, barrier):
    barrier.wait()
    KernelCache(root).install(KEY, artifacts, "6.12.117")


def test_concurrent_installs_of_one_key_give_one_complete_entry(tmp_path, artifacts):
    root = tmp_path / "cache"
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_install, args=(root, artifacts, barrier)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert sorted(p.name for p in root.iterdir()) == [KEY.name]
    entry = KernelCache(root).lookup(KEY)
    assert sorted(p.name for p in entry.path.iterdir()) == ["bzImage", "config", "entry.json", "release", "vmlinux"]


def test_clean_keeps_newest_and_young_temporaries(tmp_path, artifacts):
    cache = KernelCache(tmp_path / "c")
    keys = [CacheKey(str(i) * 64, "c" * 64) for i in range(3)]
    for i, key in enumerate(keys):
        entry = cache.install(key, artifacts, "6.12.117")
        meta = json.loads((entry.path / "entry.json").read_text())
        meta["created"] = 1000.0 + i
        (entry.path / "entry.json").write_text(json.dumps(meta))
    young = tmp_path / "c" / ".tmp-inprogress"
    young.mkdir()
    old = tmp_path / "c" / ".tmp-abandoned"
    old.mkdir()
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    removed = cache.clean(keep=1)
    assert old in removed and young not in removed
    assert [e.key for e in cache.list()] == [keys[2]]
    assert young.exists()
    cache.clean(keep=0)
    assert cache.list() == []


def test_default_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("KTSTR_CACHE_DIR", str(tmp_path))
    assert default_root() == tmp_path / "kernels"
