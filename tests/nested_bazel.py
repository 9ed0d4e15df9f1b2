"""For tests that run a real Bazel of their own (remote cache, repository rules, a consumer
workspace, cache keys under other users)."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest


def real_bazel() -> str:
    """The Bazel binary itself (Debian's /usr/bin/bazel-4...), not the tools/bazel wrapper."""
    for candidate in sorted(glob.glob("/usr/bin/bazel-[0-9]*")) + [shutil.which("bazel") or ""]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("no Bazel binary found (tools/bazel installs bazel-bootstrap)")


def java_home() -> str:
    """Debian's Bazel runs on the system JDK; with a bare PATH it needs JAVA_HOME."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    javac = shutil.which("javac") or shutil.which("java")
    return str(Path(os.path.realpath(javac)).parents[1]) if javac else ""


def source_root() -> Path:
    """The ktstr checkout this test was built from (its runfiles link back to it)."""
    here = Path(os.path.realpath(__file__))
    root = here.parents[1]
    if not (root / "rules" / "defs.bzl").exists():
        pytest.fail(f"cannot find ktstr's source tree from {here}")
    return root


def copy_checkout(dst: Path) -> Path:
    """A copy of the checkout's files (tracked and untracked, not ignored) at dst: a second
    clone, at another path."""
    root = source_root()
    if (root / ".git").exists():
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    else:
        files = [str(p.relative_to(root)) for p in root.rglob("*")
                 if p.is_file() and not p.relative_to(root).parts[0].startswith(("bazel-", ".git"))]
    for rel in files:
        src = root / rel
        if not src.is_file():
            continue  # deleted in the working tree
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst / rel)
    return dst


def shared_disk_cache(artifact: Path, required: bool = True) -> Path | None:
    """The disk cache ./bazelw gave the build of this test's data (the invoking user's
    $KTSTR_CACHE_DIR default), found by the artifact's digest in it. When it is not there:
    skip if `required` (a nested build would compile instead of proving anything), else
    None."""
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    candidates = [Path(os.environ.get("KTSTR_CACHE_DIR", home / ".cache" / "ktstr")) / "bazel-disk-cache"]
    for cache in candidates:
        # Bazel 4 keeps blobs at cas/<hash>; later versions at cas/<hash[:2]>/<hash>.
        if (cache / "cas" / digest).exists() or (cache / "cas" / digest[:2] / digest).exists():
            return cache
    if not required:
        return None
    pytest.skip(f"{artifact.name} is not in the disk cache at {candidates[0]} (built without "
                "./bazelw, or with another KTSTR_CACHE_DIR): a nested build would compile it")


def path_without(tmp_path: Path, prefixes: tuple[str, ...]) -> Path:
    """A PATH directory with every program of /usr/bin and /bin except those whose names
    start with one of `prefixes`: this machine as one without them (e.g. no QEMU, no dpkg)."""
    bindir = tmp_path / "bin-without"
    bindir.mkdir()
    for d in ("/usr/bin", "/bin"):
        for prog in sorted(os.listdir(d)):
            if not prog.startswith(prefixes) and not (bindir / prog).exists():
                (bindir / prog).symlink_to(f"{d}/{prog}")
    return bindir


def run_bazel(workspace: Path, home: Path, *args: str, timeout: int = 900,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`bazel <args>` in batch mode as a user whose home is `home` (its own output root)."""
    home.mkdir(parents=True, exist_ok=True)
    cmd = [real_bazel(), "--batch", f"--output_user_root={home / 'bazel'}", *args]
    full_env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "JAVA_HOME": java_home(),
                "LC_ALL": "C.UTF-8", **(env or {})}
    return subprocess.run(cmd, cwd=workspace, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


def execution_log(path: Path) -> list[dict]:
    """The spawns of a --execution_log_json_file (concatenated JSON objects, one a spawn:
    command line, environment, input digests, mnemonic, remoteCacheHit)."""
    decoder, text, pos, out = json.JSONDecoder(), path.read_text(), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        obj, pos = decoder.raw_decode(text, pos)
        out.append(obj)
