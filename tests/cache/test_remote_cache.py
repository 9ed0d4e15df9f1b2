"""A Bazel build is served from ktstr's nginx remote cache after `bazel clean`."""

import base64
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.nested_bazel import real_bazel

from tools.remote_cache import remote_cache


WRITER = remote_cache.Writer("ci", "s3cret-for-this-test")


@pytest.fixture
def cache_server(tmp_path):
    server = remote_cache.start(tmp_path / "cache", writer=WRITER)
    yield server
    server.stop()


def http(method: str, url: str, body: bytes | None = None, auth: str | None = None) -> int:
    req = urllib.request.Request(url, data=body, method=method)
    if auth:
        name, _, value = auth.partition("=")
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_reads_are_anonymous_writes_need_the_credential(cache_server):
    url = f"{cache_server.url}/cas/" + "ab" * 32
    assert cache_server.bind == "127.0.0.1"  # the default: not on the network unless asked
    assert http("PUT", url, b"intruder") == 401
    assert http("GET", url) == 404  # nothing was written
    assert http("PUT", url, b"blob", auth="Authorization=Basic " + base64.b64encode(b"ci:wrong").decode()) == 401
    assert http("PUT", url, b"blob", auth=WRITER.header()) in (201, 204)
    assert http("GET", url) == 200


def test_without_a_writer_the_cache_is_read_only(tmp_path):
    server = remote_cache.start(tmp_path / "ro")
    try:
        assert http("PUT", f"{server.url}/ac/" + "cd" * 32, b"x", auth=WRITER.header()) == 403
    finally:
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
    flags = [f"--remote_cache={cache_server.url}", "--spawn_strategy=local",
             f"--remote_header={WRITER.header()}"]
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
