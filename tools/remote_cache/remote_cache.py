"""Run a Bazel HTTP remote cache (nginx + WebDAV) for sharing kernels and schedulers.

Bazel's HTTP cache protocol is plain GET/PUT of /ac/<key> and /cas/<sha256>, which nginx's
DAV module serves as files under one directory. CI and developers then share every built
kernel with:

    build --remote_cache=http://HOST:PORT

Usage:
    python3 tools/remote_cache/remote_cache.py serve --root DIR [--port 8080] [--bind 127.0.0.1]

Requires nginx with the DAV module (Debian: nginx-light, in tools/debian-packages.txt).
"""

from __future__ import annotations

import argparse
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
      dav_methods PUT;
      create_full_put_path on;
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


def start(root: Path, port: int = 0, bind: str = "127.0.0.1", state: Path | None = None,
          timeout_s: float = 10.0) -> CacheServer:
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    state = (state or root.parent / (root.name + ".nginx")).resolve()
    state.mkdir(parents=True, exist_ok=True)
    port = port or free_port(bind)
    # As root, nginx would hand requests to 'nobody', who cannot write `root`.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = state / "nginx.conf"
    conf.write_text(_CONF.format(user=user, state=state, bind=bind, port=port, root=root))
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
    serve.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args(argv)
    server = start(args.root, args.port, args.bind)
    print(f"remote cache at {server.url} (root {server.root}); use: "
          f"build --remote_cache={server.url}", flush=True)
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        server.stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
