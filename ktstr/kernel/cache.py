"""Content-addressed kernel cache for use outside Bazel.

Layout: $KTSTR_CACHE_DIR/kernels (default ~/.cache/ktstr/kernels)/<key>/ holding bzImage,
vmlinux, config, release and entry.json. The key is derived from (sha256 of the kernel
source, sha256 of the merged configuration request). An entry appears atomically: it is
assembled in a temporary directory beside its final place and renamed into place, so a
reader never sees half an entry and two concurrent installers cannot mix files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ktstr.kernel.kconfig import Fragment

ENTRY_FILES = ("bzImage", "vmlinux", "config", "release")
METADATA = "entry.json"
TMP_PREFIX = ".tmp-"
_ENTRY_NAME = re.compile(r"^[0-9a-f]{16}-[0-9a-f]{16}$")


def default_root() -> Path:
    base = os.environ.get("KTSTR_CACHE_DIR")
    if base:
        return Path(base) / "kernels"
    return Path.home() / ".cache" / "ktstr" / "kernels"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_sha256(source: Path) -> str:
    """sha256 of a tarball, or of a tree's sorted (path, content) pairs (.git skipped)."""
    if source.is_file():
        return file_sha256(source)
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            path = Path(root) / name
            digest.update(str(path.relative_to(source)).encode() + b"\0")
            if path.is_symlink():
                digest.update(b"link:" + os.readlink(path).encode())
            else:
                digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def config_sha256(base_config: str, merged: Fragment, arch: str = "x86_64") -> str:
    """Hash of what was asked for: base config, arch and the merged fragment lines."""
    text = f"arch={arch}\nbase={base_config}\n" + merged.render()
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CacheKey:
    source_sha256: str
    config_sha256: str

    @property
    def name(self) -> str:
        return f"{self.source_sha256[:16]}-{self.config_sha256[:16]}"


@dataclass(frozen=True)
class CacheEntry:
    key: CacheKey
    path: Path
    release: str
    created: float
    description: str

    def file(self, name: str) -> Path:
        return self.path / name


class KernelCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def lookup(self, key: CacheKey) -> CacheEntry | None:
        return self._load(self.root / key.name)

    def install(self, key: CacheKey, files: dict[str, Path], release: str, description: str = "") -> CacheEntry:
        """Copy `files` (name -> path, names from ENTRY_FILES) into a new entry atomically.

        If another process installed the same key first, its entry is kept and returned:
        same key means same content, so either copy is correct.
        """
        unknown = set(files) - set(ENTRY_FILES)
        if unknown:
            raise ValueError(f"unknown cache entry files {sorted(unknown)}; allowed: {ENTRY_FILES}")
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / key.name
        existing = self._load(final)
        if existing is not None:
            return existing
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{key.name}-", dir=self.root))
        try:
            for name, src in files.items():
                shutil.copyfile(src, tmp / name)
            metadata = {
                "key": asdict(key),
                "release": release,
                "created": time.time(),
                "description": description,
            }
            # Metadata last: an entry without entry.json is never treated as complete.
            (tmp / METADATA).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
            os.chmod(tmp, 0o755)
            try:
                os.rename(tmp, final)
            except OSError:
                if self._load(final) is None:
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # lost the race to an identical entry
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        entry = self._load(final)
        assert entry is not None, f"cache entry {final} vanished right after install"
        return entry

    def list(self) -> list[CacheEntry]:
        if not self.root.is_dir():
            return []
        entries = [self._load(p) for p in sorted(self.root.iterdir()) if not p.name.startswith(TMP_PREFIX)]
        return sorted((e for e in entries if e is not None), key=lambda e: e.created)

    def clean(self, keep: int = 0, tmp_max_age_s: float = 3600.0) -> list[Path]:
        """Remove all but the `keep` newest entries, broken entries and stale temporaries."""
        if not self.root.is_dir():
            return []
        removed: list[Path] = []
        now = time.time()
        for path in sorted(self.root.iterdir()):
            if path.name.startswith(TMP_PREFIX):
                # A temporary younger than this may be an install in progress right now.
                if now - path.stat().st_mtime > tmp_max_age_s:
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
            elif path.is_dir() and _ENTRY_NAME.match(path.name) and self._load(path) is None:
                # Only entry-shaped names: never delete unrelated files under the root.
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        entries = self.list()
        for entry in entries[: max(0, len(entries) - keep)]:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
        return removed

    @staticmethod
    def _load(path: Path) -> CacheEntry | None:
        try:
            metadata = json.loads((path / METADATA).read_text())
            key = CacheKey(**metadata["key"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if path.name != key.name:
            return None
        return CacheEntry(key, path, metadata["release"], metadata["created"], metadata.get("description", ""))
