"""Configure, verify and build a kernel reproducibly (used by Bazel actions and the cache).

Stages: prepare source (extract a tarball or use a tree) -> `make <base_config>` -> apply
the merged fragments -> `make olddefconfig` -> verify every fragment line -> `make bzImage`
with fixed KBUILD_* and path prefix maps -> collect bzImage, vmlinux (DWARF stripped, symbols
and .BTF kept), .config and the release string.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ktstr.errors import KtstrError
from ktstr.kernel.kconfig import Fragment, apply_to_config, merge, parse_fragment, parse_fragment_text
from ktstr.kernel.verify import format_report, verify

# Fixed build identity so two clean builds produce byte-identical images.
REPRODUCIBLE_ENV = {
    "KBUILD_BUILD_TIMESTAMP": "1970-01-01 00:00:00 UTC",
    "KBUILD_BUILD_USER": "ktstr",
    "KBUILD_BUILD_HOST": "ktstr",
    "KBUILD_BUILD_VERSION": "1",
    "LC_ALL": "C",
    "TZ": "UTC",
}
TARBALL_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst")


class KernelBuildError(KtstrError, RuntimeError):
    """A configure or build failure, with a message that names the cause."""


@dataclass
class Stages:
    """Wall time of each stage, printed as progress and kept for benchmarks."""

    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, fn, *args, **kwargs):
        log(f"{name} ...")
        start = time.monotonic()
        result = fn(*args, **kwargs)
        self.seconds[name] = time.monotonic() - start
        log(f"{name} done in {self.seconds[name]:.1f} s")
        return result

    def summary(self) -> str:
        return ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())


def log(message: str) -> None:
    print(f"ktstr-kernel: {message}", file=sys.stderr, flush=True)


def load_fragments(paths: list[str | Path], extra_config: str = "") -> list[Fragment]:
    fragments = [parse_fragment(p) for p in paths]
    if extra_config.strip():
        fragments.append(parse_fragment_text(extra_config, "extra_config"))
    return fragments


def prepare_source(source: Path, workdir: Path) -> Path:
    """A kernel source tree: `source` itself, or `source` (a tarball) extracted in workdir."""
    if not source.exists():
        raise KernelBuildError(
            f"kernel source {source} does not exist: pass a kernel tarball or tree "
            f"(Debian: apt-get install linux-source-6.12 gives /usr/src/linux-source-6.12.tar.xz)"
        )
    if source.is_dir():
        tree = source
    elif source.is_file() and source.name.endswith(TARBALL_SUFFIXES):
        tree = workdir / "src"
        tree.mkdir(parents=True, exist_ok=True)
        # Kernel tarballs hold one top directory (linux-6.12.1/, linux-source-6.12/).
        _run(["tar", "-xf", str(source), "-C", str(tree), "--strip-components=1"], cwd=workdir)
    else:
        raise KernelBuildError(
            f"kernel source {source} is neither a directory nor a tarball "
            f"({', '.join(TARBALL_SUFFIXES)}): point it at a kernel tree or release tarball"
        )
    if not (tree / "Makefile").is_file() or not (tree / "Kconfig").is_file():
        raise KernelBuildError(f"{source} does not look like a Linux source tree (no Makefile/Kconfig at its top)")
    return tree


def _prefix_map_flags(srctree: Path, objdir: Path) -> str:
    # Both trees live in per-action scratch directories whose paths differ between builds;
    # mapping them away keeps DWARF (and so the vmlinux build ID inside bzImage) identical.
    # Map the directories themselves, not just "dir/": DW_AT_comp_dir is the object
    # directory with no trailing slash, and an unmapped one changed the build ID per build.
    return f"-ffile-prefix-map={srctree}=. -ffile-prefix-map={objdir}=."


def make_command(srctree: Path, objdir: Path, arch: str, *targets: str, jobs: int = 1) -> list[str]:
    flags = _prefix_map_flags(srctree, objdir)
    return [
        "make",
        "-C",
        str(srctree),
        f"O={objdir}",
        f"ARCH={arch}",
        f"-j{jobs}",
        f"KCFLAGS={flags}",
        f"KAFLAGS={flags}",
        # Whether a rustc happens to be on PATH must not change the .config (RUSTC_VERSION).
        "RUSTC=/bin/false",
        "HOSTRUSTC=/bin/false",
        *targets,
    ]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(REPRODUCIBLE_ENV)
    # The tree is the source of truth, never a stray localversion or make flags of the caller.
    for name in ("LOCALVERSION", "MAKEFLAGS", "KCONFIG_CONFIG", "CROSS_COMPILE"):
        env.pop(name, None)
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


def _run(cmd: list[str], cwd: Path, log_path: Path | None = None) -> None:
    if log_path is None:
        proc = subprocess.run(cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = proc.stdout
    else:
        with open(log_path, "a") as out:
            proc = subprocess.run(cmd, cwd=cwd, env=_env(), stdout=out, stderr=subprocess.STDOUT, text=True)
        output = log_path.read_text(errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise KernelBuildError(f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")


def configure(
    srctree: Path,
    objdir: Path,
    base_config: str,
    fragments: list[Fragment],
    arch: str = "x86_64",
) -> str:
    """Produce and verify objdir/.config; return its text. Raises naming unmet options."""
    objdir.mkdir(parents=True, exist_ok=True)
    config_path = objdir / ".config"
    if base_config.endswith("config") and "/" not in base_config:
        _run(make_command(srctree, objdir, arch, base_config), cwd=srctree)
    else:
        base = Path(base_config)
        if not base.is_file():
            raise KernelBuildError(
                f"base_config {base_config!r} is neither a make target (tinyconfig, defconfig, ...) nor a file"
            )
        shutil.copyfile(base, config_path)
    merged = merge(fragments)
    config_path.write_text(apply_to_config(config_path.read_text(), merged))
    _run(make_command(srctree, objdir, arch, "olddefconfig"), cwd=srctree)
    final = config_path.read_text()
    mismatches = verify(fragments, final, srctree=srctree)
    if mismatches:
        raise KernelBuildError(format_report(mismatches))
    return final


def use_config(srctree: Path, objdir: Path, config: Path, arch: str = "x86_64") -> None:
    """Install an already verified .config; olddefconfig must not change it."""
    objdir.mkdir(parents=True, exist_ok=True)
    wanted = config.read_text()
    (objdir / ".config").write_text(wanted)
    _run(make_command(srctree, objdir, arch, "olddefconfig"), cwd=srctree)
    if (objdir / ".config").read_text() != wanted:
        raise KernelBuildError(
            f"{config} changed under olddefconfig in this source tree: it was configured for another kernel"
        )


@dataclass(frozen=True)
class BuildOutputs:
    bzimage: Path
    vmlinux: Path
    config: Path
    release: Path


# One kernel compile at a time on a host, across Bazel actions, output bases, clones and
# nested Bazel (the consumer test). Two `make -j2` side by side on 2 cores each took 1313 s
# against 613 s alone: serialised, the first kernel (and the tests that need it) come
# first and the total is no worse. /tmp is writable inside Bazel 4's linux-sandbox.
KERNEL_BUILD_LOCK = Path(os.environ.get("KTSTR_KERNEL_BUILD_LOCK", "/tmp/ktstr-kernel-build.lock"))


def _open_lock(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError:
        # A read-only /tmp: flock works on any open file, so lock the directory itself.
        return os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)


def compile_kernel(srctree: Path, objdir: Path, jobs: int, arch: str = "x86_64") -> None:
    log_path = objdir / "build.log"
    fd = _open_lock(KERNEL_BUILD_LOCK)
    try:
        start = time.monotonic()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another kernel build on this host ({KERNEL_BUILD_LOCK})")
            fcntl.flock(fd, fcntl.LOCK_EX)
            log(f"waited {time.monotonic() - start:.0f} s for another kernel build")
        _run(make_command(srctree, objdir, arch, "bzImage", jobs=jobs), cwd=srctree, log_path=log_path)
    finally:
        os.close(fd)  # releases the lock


def collect(objdir: Path, outputs: BuildOutputs) -> str:
    """Copy the artifacts out of objdir; return the kernel release string."""
    # Output paths may be relative (Bazel passes bazel-out/...); objcopy runs in objdir.
    outputs = BuildOutputs(*(p.absolute() for p in (outputs.bzimage, outputs.vmlinux, outputs.config, outputs.release)))
    for path in (outputs.bzimage, outputs.vmlinux, outputs.config, outputs.release):
        path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(objdir / "arch/x86/boot/bzImage", outputs.bzimage)
    # DWARF is ~10x the rest; BTF (.BTF, .BTF_ids) and the symbol table are kept.
    _run(["objcopy", "--strip-debug", str(objdir / "vmlinux"), str(outputs.vmlinux)], cwd=objdir)
    shutil.copyfile(objdir / ".config", outputs.config)
    release = (objdir / "include/config/kernel.release").read_text().strip()
    outputs.release.write_text(release + "\n")
    return release


def build(
    source: Path,
    workdir: Path,
    outputs: BuildOutputs,
    base_config: str = "tinyconfig",
    fragments: list[Fragment] | None = None,
    config: Path | None = None,
    jobs: int = 2,
    arch: str = "x86_64",
) -> Stages:
    """The whole pipeline. Give either fragments (configure here) or a verified config."""
    stages = Stages()
    srctree = stages.run("prepare source", prepare_source, source, workdir)
    objdir = workdir / "build"
    if config is not None:
        stages.run("install .config", use_config, srctree, objdir, config, arch)
    else:
        stages.run("configure + verify", configure, srctree, objdir, base_config, fragments or [], arch)
    stages.run(f"make -j{jobs} bzImage", compile_kernel, srctree, objdir, jobs, arch)
    release = stages.run("collect outputs", collect, objdir, outputs)
    log(f"built {release}: {stages.summary()}")
    return stages
