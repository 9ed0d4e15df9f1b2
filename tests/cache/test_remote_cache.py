"""ktstr's remote cache (tools/remote_cache, a real server on 127.0.0.1): access rules, digest
verification, write paths, size cap with LRU eviction, dropped root, TLS, and a real Bazel
build served from it after `bazel clean`."""

import base64
import hashlib
from http.client import HTTPConnection
import os
import pwd
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.nested_bazel import real_bazel

from tools.remote_cache import remote_cache


WRITER = remote_cache.Writer("ci", "s3cret-for-this-test")
# Under Bazel's linux-sandbox as root only uid 0 exists: the server cannot drop to nobody
# there, and must be told to stay root (it refuses otherwise, see test_started_as_root...).
NOBODY = pwd.getpwnam("nobody").pw_uid
CAN_DROP = remote_cache.uid_mapped(NOBODY)
EXTRA = () if CAN_DROP or os.geteuid() != 0 else ("--stay-root",)


def start(root: Path, **kw) -> remote_cache.CacheServer:
    return remote_cache.start(root, extra=EXTRA, **kw)


@pytest.fixture
def cache_server(tmp_path):
    server = start(tmp_path / "cache", writer=WRITER)
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


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_reads_are_anonymous_writes_need_the_credential(cache_server):
    blob = b"blob"
    url = f"{cache_server.url}/cas/{sha(blob)}"
    assert cache_server.bind == "127.0.0.1"  # the default: not on the network unless asked
    assert http("PUT", url, blob) == 401
    assert http("GET", url) == 404  # nothing was written
    assert http("PUT", url, blob, auth="Authorization=Basic " + base64.b64encode(b"ci:wrong").decode()) == 401
    assert http("PUT", url, blob, auth=WRITER.header()) == 201
    assert http("GET", url) == 200
    assert http("HEAD", url) == 200


def test_without_a_writer_the_cache_is_read_only(tmp_path):
    server = start(tmp_path / "ro")
    try:
        assert http("PUT", f"{server.url}/ac/" + "cd" * 32, b"x", auth=WRITER.header()) == 403
    finally:
        server.stop()


def test_a_corrupt_cas_upload_is_refused(cache_server):
    """Issue 22: nginx stored a PUT to cas/<sha256> whose body had another digest, and served
    it to every reader. Both body encodings Bazel may use are checked as they stream in."""
    good, evil = b"the real artifact", b"something else"
    url = f"{cache_server.url}/cas/{sha(good)}"
    assert http("PUT", url, evil, auth=WRITER.header()) == 400
    assert http("GET", url) == 404
    conn = HTTPConnection(cache_server.bind, cache_server.port, timeout=10)
    conn.putrequest("PUT", f"/cas/{sha(good)}")
    conn.putheader("Authorization", WRITER.header().partition("=")[2])
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for part in (evil[:5], evil[5:]):
        conn.send(b"%x\r\n%s\r\n" % (len(part), part))
    conn.send(b"0\r\n\r\n")
    resp = conn.getresponse()
    assert resp.status == 400 and sha(evil) in resp.read().decode()
    conn.close()
    assert http("GET", url) == 404
    assert list((cache_server.root / "cas").iterdir()) == []
    assert http("PUT", url, good, auth=WRITER.header()) == 201  # the honest upload is stored
    assert (cache_server.root / "cas" / sha(good)).read_bytes() == good


@pytest.mark.parametrize("path", ["/elsewhere", "/cas/short", "/ac/" + "ab" * 32 + "/x", "/cas/%2e%2e/x",
                                  "/cas/../../escape", "/" + "ab" * 32, "/CAS/" + "ab" * 32])
def test_writes_only_under_ac_and_cas(cache_server, path):
    assert http("PUT", cache_server.url + path, b"x", auth=WRITER.header()) == 403
    outside = [p for p in cache_server.root.parent.rglob("*") if p.is_file()
               and cache_server.state not in p.parents]
    assert outside == []


def _get_slowly(url: str) -> int:
    status = http("GET", url)
    time.sleep(0.02)  # file times are coarse (a few ms): keep the order in them distinct
    return status


def test_size_cap_evicts_the_least_recently_used(tmp_path):
    server = start(tmp_path / "capped", writer=WRITER, max_bytes=3000)
    try:
        blobs = {n: bytes([n]) * 1000 for n in b"abcd"}
        urls = {n: f"{server.url}/cas/{sha(b)}" for n, b in blobs.items()}
        for n in b"abc":
            assert http("PUT", urls[n], blobs[n], auth=WRITER.header()) == 201
            time.sleep(0.02)  # file times are coarse (a few ms): keep the order in them distinct
        assert http("GET", urls[ord("a")]) == 200  # a is now more recent than b
        time.sleep(0.02)
        assert http("PUT", urls[ord("d")], blobs[ord("d")], auth=WRITER.header()) == 201
        assert [_get_slowly(urls[n]) for n in b"abcd"] == [200, 404, 200, 200]  # b went
        stored = sum(p.stat().st_size for p in (server.root / "cas").iterdir())
        assert stored <= 3000
        big = b"x" * 3001
        assert http("PUT", f"{server.url}/cas/{sha(big)}", big, auth=WRITER.header()) == 413
    finally:
        server.stop()
    # the order survives a restart (mtimes): the reads just above touched a, c, d in that
    # order, so a is now the least recently used
    server = start(tmp_path / "capped", writer=WRITER, max_bytes=3000)
    try:
        e = b"e" * 1000
        assert http("PUT", f"{server.url}/cas/{sha(e)}", e, auth=WRITER.header()) == 201
        assert [http("GET", f"{server.url}/cas/{sha(blobs[n])}") for n in b"acd"] == [404, 200, 200]
    finally:
        server.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping root needs root")
def test_started_as_root_it_serves_as_nobody(cache_server, tmp_path):
    if not CAN_DROP:
        proc = subprocess.run([sys.executable, remote_cache.__file__, "serve", "--root", str(tmp_path / "c"),
                               "--port", "0"], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2 and "cannot serve as nobody" in proc.stderr, proc.stderr
        pytest.skip("only uid 0 exists in this user namespace (a sandbox): refusal checked, the drop cannot be")
    status = Path(f"/proc/{cache_server.process.pid}/status").read_text()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert set(uids) == {str(NOBODY)}, uids
    blob = b"owned"
    assert http("PUT", f"{cache_server.url}/cas/{sha(blob)}", blob, auth=WRITER.header()) == 201
    assert (cache_server.root / "cas" / sha(blob)).stat().st_uid == pwd.getpwnam("nobody").pw_uid


def test_off_loopback_needs_tls_and_https_works(tmp_path):
    proc = subprocess.run([sys.executable, remote_cache.__file__, "serve", "--root", str(tmp_path / "c"),
                           "--bind", "192.0.2.1", "--port", "0"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--bind 192.0.2.1 serves the network: give --tls-cert and --tls-key" in proc.stderr
    cert, key = _self_signed(tmp_path)
    server = start(tmp_path / "tls", writer=WRITER, tls=(cert, key))
    try:
        assert server.url.startswith("https://")
        ctx = ssl.create_default_context(cafile=str(cert))
        blob = b"over tls"
        req = urllib.request.Request(f"{server.url}/cas/{sha(blob)}", data=blob, method="PUT")
        req.add_header("Authorization", WRITER.authorization())
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            assert resp.status == 201
        with urllib.request.urlopen(f"{server.url}/cas/{sha(blob)}", context=ctx, timeout=10) as resp:
            assert resp.read() == blob
        with pytest.raises(OSError):  # plain http to the TLS port gets no answer
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/cas/{sha(blob)}", timeout=10)
    finally:
        server.stop()


def bazel(workspace: Path, user_root: Path, *args: str) -> str:
    cmd = [real_bazel(), "--batch", f"--output_user_root={user_root}", *args]
    proc = subprocess.run(cmd, cwd=workspace, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HOME": str(user_root)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_build_after_clean_is_served_by_the_remote_cache(tmp_path, scheme):
    """https: the README's example. Bazel 4.2.3's HTTP cache trusts the JVM's trust store
    (it ignores --tls_certificate: with it alone the handshake fails, "SSLEngine closed
    already", and the build silently runs uncached), so the test's certificate goes there."""
    startup: list[str] = []
    tls = None
    if scheme == "https":
        if shutil.which("keytool") is None:
            pytest.skip("keytool (default-jre-headless) makes the JVM trust store")
        tls = _self_signed(tmp_path)
        store = tmp_path / "trust.p12"
        subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "ktstr-test", "-file", str(tls[0]),
                        "-keystore", str(store), "-storetype", "PKCS12", "-storepass", "changeit"],
                       check=True, capture_output=True)
        startup = [f"--host_jvm_args=-Djavax.net.ssl.trustStore={store}",
                   "--host_jvm_args=-Djavax.net.ssl.trustStorePassword=changeit"]
    cache_server = start(tmp_path / "cache", writer=WRITER, tls=tls)
    try:
        assert cache_server.url.startswith(f"{scheme}://")
        _round_trip(tmp_path, cache_server, startup)
    finally:
        cache_server.stop()


def _round_trip(tmp_path: Path, cache_server: remote_cache.CacheServer, startup: list[str]) -> None:
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

    first = bazel(ws, user_root, *startup, "build", "//:artifact", *flags)
    assert "remote cache hit" not in first
    produced = (ws / "bazel-bin" / "artifact.txt").read_text()
    assert list((cache_server.root / "ac").iterdir()), "no action result was uploaded"
    assert list((cache_server.root / "cas").iterdir()), "no output blob was uploaded"

    bazel(ws, user_root, *startup, "clean")
    second = bazel(ws, user_root, *startup, "build", "//:artifact", *flags)
    assert "1 remote cache hit" in second
    # The timestamp inside proves the output was downloaded, not rebuilt.
    assert (ws / "bazel-bin" / "artifact.txt").read_text() == produced
    assert "GET /ac/" in cache_server.access_log()
