"""Run a Bazel HTTP remote cache (nginx + WebDAV) for sharing kernels and schedulers.

Bazel's HTTP cache protocol is plain GET/PUT of /ac/<key> and /cas/<sha256>, which nginx's
DAV module serves as files under one directory. Reads are anonymous; writes (PUT) need the
writer's credential (HTTP basic auth), so only who holds it (CI on the main branch) can put
results in everybody's builds. Without a credential the server is read-only. It listens on
127.0.0.1 unless told otherwise.

    python3 tools/remote_cache/remote_cache.py serve --root DIR [--port 8080] \
        [--bind 127.0.0.1] [--writer ci --password-file FILE]

Developers (read):  build --remote_cache=http://HOST:PORT --noremote_upload_local_results
CI on main (write): build --remote_cache=http://HOST:PORT \
                          --remote_header=Authorization="Basic $(printf ci:SECRET | base64)"

Requires nginx with the DAV module (Debian: nginx-light, in tools/debian-packages.txt).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_CONF = """\
daemon off;
{user}
worker_processes 2;
pid {state}/nginx.pid;
error_log {state}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log {state}/access.log;
  client_body_temp_path {state}/body;
  proxy_temp_path {state}/proxy;
  fastcgi_temp_path {state}/fastcgi;
  uwsgi_temp_path {state}/uwsgi;
  scgi_temp_path {state}/scgi;
  server {{
    listen {bind}:{port};
    root {root};
    client_max_body_size 8G;
    location / {{
{writes}
    }}
  }}
}}
"""


@dataclass
class CacheServer:
    """A running nginx serving `root` as a Bazel HTTP cache."""

    root: Path
    port: int
    bind: str
    process: subprocess.Popen
    state: Path

    @property
    def url(self) -> str:
        return f"http://{self.bind}:{self.port}"

    def access_log(self) -> str:
        log = self.state / "access.log"
        return log.read_text() if log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def find_nginx() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("remote_cache: nginx not found; install Debian's nginx-light "
                     "(it has the DAV module Bazel's HTTP cache protocol needs)")


def free_port(bind: str) -> int:
    with socket.socket() as s:
        s.bind((bind, 0))
        return s.getsockname()[1]


_WRITES = """\
      dav_methods PUT;
      create_full_put_path on;
      limit_except GET HEAD {{
        auth_basic "ktstr cache writers";
        auth_basic_user_file {htpasswd};
      }}"""

# No credential: GET and HEAD only; nginx answers anything else 403.
_READ_ONLY = """\
      limit_except GET HEAD {
        deny all;
      }"""


@dataclass(frozen=True)
class Writer:
    """Who may write (HTTP basic auth)."""

    user: str
    password: str

    def htpasswd_line(self) -> str:
        # nginx's {SSHA} scheme: base64(sha1(password + salt) + salt).
        salt = os.urandom(8)
        digest = hashlib.sha1(self.password.encode() + salt).digest()
        return f"{self.user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n"

    def header(self) -> str:
        """The --remote_header value Bazel sends to be allowed to write."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Authorization=Basic {token}"


def start(root: Path, port: int = 0, bind: str = "127.0.0.1", state: Path | None = None,
          timeout_s: float = 10.0, writer: Writer | None = None) -> CacheServer:
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    state = (state or root.parent / (root.name + ".nginx")).resolve()
    state.mkdir(parents=True, exist_ok=True)
    port = port or free_port(bind)
    # As root, nginx would hand requests to 'nobody', who cannot write `root`.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = state / "nginx.conf"
    if writer is not None:
        if ":" in writer.user or not writer.user or not writer.password:
            raise ValueError("remote_cache: the writer needs a user name without ':' and a password")
        htpasswd = state / "htpasswd"
        htpasswd.write_text(writer.htpasswd_line())
        htpasswd.chmod(0o600)
        writes = _WRITES.format(htpasswd=htpasswd)
    else:
        writes = _READ_ONLY
    conf.write_text(_CONF.format(user=user, state=state, bind=bind, port=port, root=root, writes=writes))
    proc = subprocess.Popen([find_nginx(), "-c", str(conf), "-p", str(state)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"remote_cache: nginx exited with {proc.returncode}: {err.strip()}")
        try:
            with socket.create_connection((bind, port), timeout=0.2):
                return CacheServer(root=root, port=port, bind=bind, process=proc, state=state)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"remote_cache: nginx did not listen on {bind}:{port} within {timeout_s}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="serve DIR as a Bazel HTTP remote cache")
    serve.add_argument("--root", type=Path, required=True, help="directory holding ac/ and cas/")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--bind", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 serves the network)")
    serve.add_argument("--writer", help="user name allowed to write (HTTP basic auth)")
    serve.add_argument("--password-file", type=Path, help="file holding the writer's password")
    args = parser.parse_args(argv)
    if bool(args.writer) != bool(args.password_file):
        parser.error("--writer and --password-file go together (without both the cache is read-only)")
    writer = None
    if args.writer:
        if not args.password_file.is_file():
            parser.error(f"--password-file {args.password_file}: no such file")
        writer = Writer(args.writer, args.password_file.read_text().strip())
    server = start(args.root, args.port, args.bind, writer=writer)
    print(f"remote cache at {server.url} (root {server.root}), reads anonymous, "
          + (f"writes by {writer.user} only" if writer else "read-only (no --writer)"), flush=True)
    print(f"  read:  build --remote_cache={server.url} --noremote_upload_local_results", flush=True)
    if writer:
        print(f"  write: build --remote_cache={server.url} --remote_header='Authorization=Basic <base64 of "
              f"{writer.user}:password>'", flush=True)
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        server.stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
