"""A Bazel HTTP remote cache that verifies what it stores, for sharing kernels and schedulers.

Bazel's HTTP cache protocol is GET/HEAD/PUT of /ac/<key> (action results) and /cas/<sha256>
(blobs). This server (Python's standard library, no other dependency) keeps them as files
under one directory and trusts its writer with nothing it can check:

- a PUT to /cas/<sha256> is hashed as it arrives and refused (400) unless the body has that
  digest, so a writer cannot plant other content under a digest;
- writes go only to ac/ and cas/ with a 64-hex key (anything else is 403);
- the store has a size cap, and the least recently used entries are evicted beyond it;
- reads are anonymous, writes need the writer's credential (HTTP basic auth); without one
  the cache is read-only;
- started as root it drops to an unprivileged user (--user, default nobody) once the port is
  bound, and owns only its directory;
- off loopback it needs TLS (--tls-cert/--tls-key): the writer's credential and the
  artifacts would otherwise cross the network in the clear.

    python3 tools/remote_cache/remote_cache.py serve --root DIR [--port 8080] [--bind 127.0.0.1]
        [--writer ci --password-file FILE] [--max-size 20G] [--tls-cert CERT --tls-key KEY]

Developers (read):  build --remote_cache=https://HOST:PORT --noremote_upload_local_results
CI on main (write): build --remote_cache=https://HOST:PORT \\
                          --remote_header=Authorization="Basic $(printf ci:SECRET | base64)"

Why not nginx's WebDAV module, which served this before: it stores whatever it is given (no
digest check is possible without a scripting module), has no size cap, and its workers ran
as root; tools/bench/remote_cache.py measures both, README.md has the numbers.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import hmac
import ipaddress
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO, Iterator, Optional

KINDS = ("ac", "cas")
_KEY = re.compile(r"^/(ac|cas)/([0-9a-f]{64})$")
DEFAULT_MAX_BYTES = 20 << 30
_CHUNK = 1 << 20
_TMP = ".incoming"  # partial uploads, inside root (same filesystem: the rename is atomic)


class CacheError(Exception):
    """A server option that cannot be used; the message says which and what to give."""


def parse_size(text: str) -> int:
    """"20G", "512M", "4096" -> bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not m:
        raise CacheError(f"size {text!r}: give bytes or a number with K, M, G or T (e.g. 20G)")
    return int(m.group(1)) << (10 * " KMGT".index(m.group(2).upper() or " "))


class Store:
    """The files under `root`/ac and `root`/cas, with their sizes in least-recently-used
    order (the order survives a restart through the files' mtimes: a read touches them).

    Every file operation is relative to one descriptor of `root`, opened before the server
    drops root: the unprivileged server needs no access to root's parents, and no name it
    builds can leave the directory."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._lru: collections.OrderedDict[str, int] = collections.OrderedDict()
        self.total = 0
        self.evicted = 0
        root.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        for kind in KINDS:
            (root / kind).mkdir(exist_ok=True)
        shutil.rmtree(root / _TMP, ignore_errors=True)  # a crash's partial uploads
        (root / _TMP).mkdir()
        found = []
        for kind in KINDS:
            for entry in os.scandir(root / kind):
                if entry.is_file(follow_symlinks=False) and re.fullmatch(r"[0-9a-f]{64}", entry.name):
                    st = entry.stat(follow_symlinks=False)
                    found.append((st.st_mtime_ns, f"{kind}/{entry.name}", st.st_size))
        for _, rel, size in sorted(found):
            self._lru[rel] = size
            self.total += size
        self._evict()

    def open(self, rel: str) -> Optional[tuple[BinaryIO, int]]:
        """The entry for reading and its size, or None; it becomes the most recently used."""
        try:
            fd = os.open(rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        with self._lock:
            if rel in self._lru:
                self._lru.move_to_end(rel)
        try:
            os.utime(fd)
        except OSError:
            pass  # read-only filesystem: the order is kept in memory only
        return os.fdopen(fd, "rb"), os.fstat(fd).st_size

    def put(self, rel: str, body: BinaryIO, length: Optional[int], want_sha256: Optional[str]) -> str:
        """Store `body` (exactly `length` bytes, or chunked when None) as `rel`. Returns ""
        or why it was refused (the digest does not match, it is larger than the cap)."""
        if length is not None and length > self.max_bytes:
            # not read: the handler closes the connection instead of taking it all in
            return f"{length} bytes is more than the cache's cap of {self.max_bytes}"
        tmp = f"{_TMP}/{os.urandom(8).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=self.fd)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in _body_chunks(body, length):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _TooLarge
                    digest.update(chunk)
                    out.write(chunk)
            if want_sha256 is not None and digest.hexdigest() != want_sha256:
                return f"the body's sha256 is {digest.hexdigest()}, not the {want_sha256} it is stored under"
            os.replace(tmp, rel, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            tmp = ""
        except _TooLarge:
            return f"the body is more than the cache's cap of {self.max_bytes} bytes"
        finally:
            if tmp:
                os.unlink(tmp, dir_fd=self.fd)
        with self._lock:
            self.total += size - self._lru.pop(rel, 0)
            self._lru[rel] = size
            self._evict()
        return ""

    def _evict(self) -> None:
        """Drop least recently used entries until the store fits its cap (lock held, or in
        __init__). A reader that has the file open keeps reading it: unlink removes the name."""
        while self.total > self.max_bytes and self._lru:
            rel, size = self._lru.popitem(last=False)
            self.total -= size
            self.evicted += 1
            try:
                os.unlink(rel, dir_fd=self.fd)
            except FileNotFoundError:
                pass


class _TooLarge(Exception):
    pass


class BadRequest(Exception):
    pass


def _exactly(body: BinaryIO, size: int, short: str) -> Iterator[bytes]:
    """`size` bytes of the body in chunks; BadRequest(`short`) if it ends first."""
    while size > 0:
        chunk = body.read(min(_CHUNK, size))
        if not chunk:
            raise BadRequest(short)
        size -= len(chunk)
        yield chunk


def _body_chunks(body: BinaryIO, length: Optional[int]) -> Iterator[bytes]:
    """The request body, from Content-Length or Transfer-Encoding: chunked."""
    if length is not None:
        yield from _exactly(body, length, "the body ended before its Content-Length")
        return
    while True:
        line = body.readline(100)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest(f"bad chunk size line {line[:40]!r}") from None
        if size == 0:
            while body.readline(1000) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return
        yield from _exactly(body, size, "the body ended inside a chunk")
        body.readline(10)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Bazel reuses its connections
    timeout = 120  # a client silent this long loses its connection (and its thread)
    # Headers and body go out in separate writes: with Nagle's algorithm the body waited for
    # the client's delayed ACK, 40 ms per small GET (22 requests/s in tools/bench/remote_cache.py).
    disable_nagle_algorithm = True
    server: "CacheHTTPServer"

    def log_message(self, format: str, *args: object) -> None:
        self.server.log(f"{self.address_string()} {format % args}")

    def _reply(self, status: int, text: str = "") -> None:
        body = (text + "\n").encode() if text else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="ktstr cache writers"')
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _entry(self) -> Optional[str]:
        m = _KEY.match(self.path.split("?", 1)[0])
        return f"{m.group(1)}/{m.group(2)}" if m else None

    def do_GET(self) -> None:
        rel = self._entry()
        opened = self.server.store.open(rel) if rel else None
        if opened is None:
            self._reply(404)
            return
        f, size = opened
        with f:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command != "HEAD":
                shutil.copyfileobj(f, self.wfile, _CHUNK)

    do_HEAD = do_GET

    def do_PUT(self) -> None:
        writer = self.server.writer_auth
        if writer is None:
            self.close_connection = True
            self._reply(403, "this cache is read-only (started without --writer)")
            return
        if not hmac.compare_digest(self.headers.get("Authorization", "").encode(), writer.encode()):
            self.close_connection = True
            self._reply(401, "writes need the writer's credential")
            return
        rel = self._entry()
        if rel is None:
            self.close_connection = True
            self._reply(403, "writes go only to /ac/<64 hex> and /cas/<sha256>")
            return
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        length_text = self.headers.get("Content-Length")
        if not chunked and length_text is None:
            self.close_connection = True
            self._reply(411, "a PUT needs Content-Length or chunked transfer encoding")
            return
        try:
            length = None if chunked else int(length_text or "")
            if length is not None and length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            self._reply(400, f"bad Content-Length {length_text!r}")
            return
        try:
            refused = self.server.store.put(rel, self.rfile, length,
                                            rel.split("/")[1] if rel.startswith("cas/") else None)
        except BadRequest as exc:
            self.close_connection = True
            self._reply(400, str(exc))
            return
        if refused:
            self.close_connection = True
            self._reply(413 if "cap" in refused else 400, f"{rel}: refused: {refused}")
            return
        self._reply(201)

    def _not_allowed(self) -> None:
        self.close_connection = True
        self._reply(405, "this cache answers GET, HEAD and PUT")

    do_POST = do_DELETE = do_PATCH = do_MKCOL = do_MOVE = do_COPY = do_PROPFIND = do_OPTIONS = _not_allowed


class CacheHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], store: Store, writer_auth: Optional[str],
                 log_path: Optional[Path]) -> None:
        self.store = store
        self.writer_auth = writer_auth
        self._log = open(log_path, "a", buffering=1) if log_path else None
        self._log_lock = threading.Lock()
        super().__init__(addr, Handler)

    def log(self, line: str) -> None:
        if self._log is not None:
            with self._log_lock:
                self._log.write(line + "\n")


@dataclass(frozen=True)
class Writer:
    """Who may write (HTTP basic auth)."""

    user: str
    password: str

    def authorization(self) -> str:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def header(self) -> str:
        """The --remote_header value Bazel sends to be allowed to write."""
        return f"Authorization={self.authorization()}"


def is_loopback(bind: str) -> bool:
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


def uid_mapped(uid: int) -> bool:
    """Does `uid` exist in this process's user namespace? In a sandbox that maps only root
    (Bazel's linux-sandbox run as root) no other account can be switched to."""
    try:
        lines = Path("/proc/self/uid_map").read_text().splitlines()
    except OSError:
        return True
    for line in lines:
        inside, _, count = (int(x) for x in line.split())
        if inside <= uid < inside + count:
            return True
    return False


def _drop_root(user: str, paths: list[Path]) -> None:
    """As root: give `paths` (the cache's own directories) to `user`, then become it, so a
    bug in the request handling cannot write anywhere else on the machine."""
    import pwd

    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise CacheError(f"--user {user}: no such user (give an unprivileged account to serve as)") from None
    if pw.pw_uid == 0:
        raise CacheError(f"--user {user} is root: give an unprivileged account")
    if not uid_mapped(pw.pw_uid):
        raise CacheError(f"cannot serve as {user} (uid {pw.pw_uid}): this user namespace maps only "
                         f"{Path('/proc/self/uid_map').read_text().split()[:3]}; run it outside the sandbox, "
                         f"or accept serving as root here with --stay-root")
    for top in paths:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.lchown(name, pw.pw_uid, pw.pw_gid)
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)


def serve(root: Path, port: int, bind: str, writer: Optional[Writer], max_bytes: int,
          tls: Optional[tuple[Path, Path]], user: Optional[str], log: Optional[Path],
          insecure: bool = False, stay_root: bool = False) -> CacheHTTPServer:
    """Bind, set up TLS, drop root, and return the server (call serve_forever)."""
    if not is_loopback(bind) and tls is None and not insecure:
        raise CacheError(f"--bind {bind} serves the network: give --tls-cert and --tls-key (the writer's "
                         f"credential and the artifacts would cross it in the clear), or bind 127.0.0.1")
    if writer is not None and (":" in writer.user or not writer.user or not writer.password):
        raise CacheError("the writer needs a user name without ':' and a password")
    root = root.resolve()
    store = Store(root, max_bytes)
    server = CacheHTTPServer((bind, port), store, writer.authorization() if writer else None, log)
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        except (OSError, ssl.SSLError) as exc:
            raise CacheError(f"--tls-cert {tls[0]} / --tls-key {tls[1]}: {exc}") from None
        # The handshake happens in the connection's own thread, not in accept(): a slow or
        # silent client must not hold up everybody else's.
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    if os.geteuid() == 0 and not stay_root:
        _drop_root(user or "nobody", [root] + ([log.parent] if log else []))
    return server


@dataclass
class CacheServer:
    """A cache server running as a child process (what `start` gives tests and benches)."""

    root: Path
    port: int
    bind: str
    process: subprocess.Popen
    state: Path
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bind}:{self.port}"

    def access_log(self) -> str:
        log = self.state / "access.log"
        return log.read_text() if log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(root: Path, port: int = 0, bind: str = "127.0.0.1", state: Optional[Path] = None,
          timeout_s: float = 10.0, writer: Optional[Writer] = None, max_bytes: int = DEFAULT_MAX_BYTES,
          tls: Optional[tuple[Path, Path]] = None, extra: tuple[str, ...] = ()) -> CacheServer:
    """Run `serve` in a child process (the same code path as a user's), wait until it
    listens and return it."""
    root = root.resolve()
    state = (state or root.parent / (root.name + ".server")).resolve()
    state.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "serve", "--root", str(root), "--port", str(port),
           "--bind", bind, "--max-size", str(max_bytes), "--log", str(state / "access.log"), *extra]
    if writer is not None:
        pw = state / "password"
        pw.write_text(writer.password)
        pw.chmod(0o600)
        cmd += ["--writer", writer.user, "--password-file", str(pw)]
    if tls is not None:
        cmd += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = ""
    deadline = time.monotonic() + timeout_s
    # The first line says where it listens (port 0 picks a free one).
    while time.monotonic() < deadline and proc.poll() is None:
        first = proc.stdout.readline()
        if first:
            break
    m = re.search(r"remote cache at (https?)://[^:]+:(\d+)", first)
    if not m:
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"remote_cache: the server did not start: {first.strip()} {err.strip()}")
    return CacheServer(root=root, port=int(m.group(2)), bind=bind, process=proc, state=state, scheme=m.group(1))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="serve DIR as a Bazel HTTP remote cache")
    s.add_argument("--root", type=Path, required=True, help="directory holding ac/ and cas/")
    s.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    s.add_argument("--bind", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs --tls-cert/--tls-key)")
    s.add_argument("--writer", help="user name allowed to write (HTTP basic auth)")
    s.add_argument("--password-file", type=Path, help="file holding the writer's password")
    s.add_argument("--max-size", default=str(DEFAULT_MAX_BYTES),
                   help="cap of the stored bytes; least recently used entries are evicted (default 20G)")
    s.add_argument("--tls-cert", type=Path, help="PEM certificate (chain) for https")
    s.add_argument("--tls-key", type=Path, help="PEM private key for https")
    s.add_argument("--user", help="account to serve as when started as root (default nobody)")
    s.add_argument("--log", type=Path, help="access log file")
    s.add_argument("--stay-root", action="store_true",
                   help="started as root, keep serving as root (where no other account exists, e.g. a "
                        "sandbox mapping only root)")
    s.add_argument("--insecure-plain-http", action="store_true",
                   help="allow plain http off loopback (a network you trust completely)")
    args = parser.parse_args(argv)
    try:
        if bool(args.writer) != bool(args.password_file):
            raise CacheError("--writer and --password-file go together (without both the cache is read-only)")
        if bool(args.tls_cert) != bool(args.tls_key):
            raise CacheError("--tls-cert and --tls-key go together")
        writer = None
        if args.writer:
            try:
                writer = Writer(args.writer, args.password_file.read_text().strip())
            except OSError as exc:
                raise CacheError(f"--password-file {args.password_file}: {exc.strerror}") from None
        tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
        server = serve(args.root, args.port, args.bind, writer, parse_size(args.max_size), tls, args.user,
                       args.log, args.insecure_plain_http, args.stay_root)
    except (CacheError, OSError) as exc:
        print(f"remote_cache: {exc}", file=sys.stderr)
        return 2
    scheme = "https" if tls else "http"
    url = f"{scheme}://{args.bind}:{server.server_address[1]}"
    print(f"remote cache at {url} (root {server.store.root}, {server.store.total} of {server.store.max_bytes} "
          f"bytes used, uid {os.geteuid()}), reads anonymous, "
          + (f"writes by {writer.user} only" if writer else "read-only (no --writer)"), flush=True)
    print(f"  read:  build --remote_cache={url} --noremote_upload_local_results", flush=True)
    if writer:
        print(f"  write: build --remote_cache={url} --remote_header='Authorization=Basic <base64 of "
              f"{writer.user}:password>'", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
