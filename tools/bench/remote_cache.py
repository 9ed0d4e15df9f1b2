#!/usr/bin/env python3
"""The project's cache server (tools/remote_cache) against nginx's WebDAV module, which served
the cache before, on the same requests: loopback only, bounded loops, runs alternating
between the servers so machine noise hits both; medians.

Work per run and server (what a Bazel build asks of its cache):
  small: 400 PUT then 400 GET of distinct 4 KiB blobs over one keep-alive connection
         (action results and small outputs), requests per second;
  large: 6 PUT then 6 GET of distinct 16 MiB blobs (kernel-sized outputs), MB/s;
  parallel: 4 connections doing 200 GETs each of the small blobs, requests per second.

    tools/bench/remote_cache.py [--runs 3]

The client is Python's http.client for both; nginx runs the configuration the project used
(nginx-light, DAV PUT, 2 workers), with no digest check (it has none to offer).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tools.remote_cache import remote_cache  # noqa: E402

WRITER = remote_cache.Writer("bench", "bench-password")
SMALL, SMALL_N = 4096, 400
LARGE, LARGE_N = 16 << 20, 6
PARALLEL, PARALLEL_N = 4, 200

# The nginx configuration tools/remote_cache used (WebDAV), with basic auth for PUT.
NGINX_CONF = """daemon off;
{user}
worker_processes 2;
pid {state}/nginx.pid;
error_log {state}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {state}/body;
  proxy_temp_path {state}/proxy;
  fastcgi_temp_path {state}/fastcgi;
  uwsgi_temp_path {state}/uwsgi;
  scgi_temp_path {state}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    client_max_body_size 8G;
    location / {{
      dav_methods PUT;
      create_full_put_path on;
      limit_except GET HEAD {{
        auth_basic "bench";
        auth_basic_user_file {state}/htpasswd;
      }}
    }}
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_nginx(work: Path) -> tuple[int, Callable[[], None]]:
    import base64

    root, state = work / "nginx-root", work / "nginx-state"
    root.mkdir()
    state.mkdir()
    salt = os.urandom(8)
    digest = hashlib.sha1(WRITER.password.encode() + salt).digest()
    (state / "htpasswd").write_text(f"{WRITER.user}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n")
    port = _free_port()
    (state / "nginx.conf").write_text(NGINX_CONF.format(
        user="user root;" if os.geteuid() == 0 else "", state=state, port=port, root=root))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-c", str(state / "nginx.conf"), "-p", str(state)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)

    def stop() -> None:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=10)
    return port, stop


def start_python(work: Path) -> tuple[int, Callable[[], None]]:
    server = remote_cache.start(work / "py-root", writer=WRITER)
    return server.port, server.stop


def _blobs(size: int, n: int, tag: bytes) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        body = (tag + i.to_bytes(4, "little")) * (size // (len(tag) + 4)) + b"\0" * (size % (len(tag) + 4))
        out.append((hashlib.sha256(body).hexdigest(), body))
    return out


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> bytes:
    headers = {"Authorization": WRITER.authorization()} if method == "PUT" else {}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status not in (200, 201, 204):
        raise RuntimeError(f"{method} {path}: {resp.status}")
    return data


def measure(port: int, run: int) -> dict[str, float]:
    tag = f"r{run}p{port}".encode()
    small = _blobs(SMALL, SMALL_N, tag)
    large = _blobs(LARGE, LARGE_N, tag)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    for key, body in small:
        _request(conn, "PUT", f"/cas/{key}", body)
    t1 = time.perf_counter()
    for key, body in small:
        assert _request(conn, "GET", f"/cas/{key}") == body
    t2 = time.perf_counter()
    for key, body in large:
        _request(conn, "PUT", f"/cas/{key}", body)
    t3 = time.perf_counter()
    for key, _ in large:
        _request(conn, "GET", f"/cas/{key}")
    t4 = time.perf_counter()
    conn.close()

    def reader(keys: list[str]) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for k in keys:
            _request(c, "GET", f"/cas/{k}")
        c.close()
    keys = [k for k, _ in small][:PARALLEL_N]
    threads = [threading.Thread(target=reader, args=(keys,)) for _ in range(PARALLEL)]
    t5 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t6 = time.perf_counter()
    mb = LARGE * LARGE_N / 1e6
    return {"small PUT req/s": SMALL_N / (t1 - t0), "small GET req/s": SMALL_N / (t2 - t1),
            "large PUT MB/s": mb / (t3 - t2), "large GET MB/s": mb / (t4 - t3),
            f"{PARALLEL} x GET req/s": PARALLEL * PARALLEL_N / (t6 - t5)}


def main() -> int:
    p = argparse.ArgumentParser(description="remote cache servers, side by side")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    results: dict[str, list[dict[str, float]]] = {"nginx": [], "python": []}
    with tempfile.TemporaryDirectory(prefix="ktstr-cache-bench-") as tmp:
        for run in range(args.runs):
            for name, start in (("nginx", start_nginx), ("python", start_python)):
                work = Path(tmp) / f"{name}{run}"
                work.mkdir()
                os.chmod(work, 0o755)
                port, stop = start(work)
                try:
                    res = measure(port, run)
                finally:
                    stop()
                results[name].append(res)
                print(f"run {run + 1} {name:6}: " + ", ".join(f"{k} {v:.0f}" for k, v in res.items()), flush=True)
    print(f"\nmedians of {args.runs} runs")
    for key in results["nginx"][0]:
        n = statistics.median(r[key] for r in results["nginx"])
        py = statistics.median(r[key] for r in results["python"])
        print(f"  {key:18} nginx {n:8.0f}  python {py:8.0f}  python/nginx {py / n:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
