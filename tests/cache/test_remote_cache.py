"""A Bazel build is served from ktstr's nginx remote cache after `bazel clean`."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.nested_bazel import real_bazel

from tools.remote_cache import remote_cache


@pytest.fixture
def cache_server(tmp_path):
    server = remote_cache.start(tmp_path / "cache")
    yield server
    server.stop()


def bazel(workspace: Path, user_root: Path, *args: str) -> str:
    cmd = [real_bazel(), "--batch", f"--output_user_root={user_root}", *args]
    proc = subprocess.run(cmd, cwd=workspace, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HOME": str(user_root)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr


def test_build_after_clean_is_served_by_the_remote_cache(tmp_path, cache_server):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "WORKSPACE").write_text("")
    # A stand-in for an expensive artifact: its output must come back from the cache.
    (ws / "BUILD").write_text(
        'genrule(name = "artifact", outs = ["artifact.txt"],\n'
        '        cmd = "echo built-once > $@; date +%s%N >> $@")\n')
    flags = [f"--remote_cache={cache_server.url}", "--spawn_strategy=local"]
    user_root = tmp_path / "bazel"

    first = bazel(ws, user_root, "build", "//:artifact", *flags)
    assert "remote cache hit" not in first
    produced = (ws / "bazel-bin" / "artifact.txt").read_text()
    assert list((cache_server.root / "ac").iterdir()), "no action result was uploaded"
    assert list((cache_server.root / "cas").iterdir()), "no output blob was uploaded"

    bazel(ws, user_root, "clean")
    second = bazel(ws, user_root, "build", "//:artifact", *flags)
    assert "1 remote cache hit" in second
    # The timestamp inside proves the output was downloaded, not rebuilt.
    assert (ws / "bazel-bin" / "artifact.txt").read_text() == produced
    assert "GET /ac/" in cache_server.access_log()
