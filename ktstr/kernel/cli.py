"""`python -m ktstr.kernel ...`: kconfig merge/verify, kernel builds, the kernel cache."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ktstr.kernel.build import BuildOutputs, KernelBuildError, build, configure, load_fragments, log, prepare_source
from ktstr.kernel.cache import CacheKey, KernelCache, config_sha256, source_sha256
from ktstr.kernel.kconfig import KconfigError, merge
from ktstr.kernel.verify import format_report, verify

DEFAULT_FRAGMENT = Path(__file__).resolve().parents[2] / "kernels" / "ktstr.kconfig"


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fragment", action="append", default=[], help="kconfig fragment (repeatable, last wins)")
    p.add_argument("--extra-config", default="", help="extra kconfig lines, applied after the fragments")
    p.add_argument("--base-config", default="tinyconfig", help="make target (tinyconfig, defconfig) or a .config file")
    p.add_argument("--arch", default="x86_64")
    p.add_argument("--keep-workdir", action="store_true", help="keep --workdir for debugging")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ktstr.kernel", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("merge", help="print the merged fragments (last setting wins)")
    p.add_argument("fragments", nargs="+")

    p = sub.add_parser("verify", help="check that every fragment line holds in a .config")
    p.add_argument("--config", required=True, help="the final .config")
    p.add_argument("--srctree", help="kernel source tree, to name unmet dependencies")
    p.add_argument("fragments", nargs="+")

    p = sub.add_parser("configure", help="base config + fragments + olddefconfig + verify")
    p.add_argument("--source", required=True, type=Path, help="kernel tarball or source tree")
    p.add_argument("--out", required=True, type=Path, help="where to write the verified .config")
    p.add_argument("--workdir", type=Path, help="scratch directory (default: a temporary one)")
    _add_config_args(p)

    p = sub.add_parser("build", help="build a kernel into explicit output paths (the Bazel action)")
    p.add_argument("--source", required=True, type=Path)
    p.add_argument("--config", type=Path, help="a verified .config from `configure` (else configure here)")
    p.add_argument("--workdir", type=Path)
    p.add_argument("--jobs", type=int, default=2, help="make -j; 0 means one per CPU")
    p.add_argument("--out-bzimage", required=True, type=Path)
    p.add_argument("--out-vmlinux", required=True, type=Path)
    p.add_argument("--out-config", required=True, type=Path)
    p.add_argument("--out-release", required=True, type=Path)
    _add_config_args(p)

    p = sub.add_parser("get", help="return a cached kernel, building and caching it on a miss")
    p.add_argument("--source", required=True, type=Path)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--cache-dir", type=Path, help="cache root (default $KTSTR_CACHE_DIR/kernels)")
    _add_config_args(p)

    p = sub.add_parser("list", help="list cached kernels")
    p.add_argument("--cache-dir", type=Path)

    p = sub.add_parser("clean", help="remove cached kernels")
    p.add_argument("--cache-dir", type=Path)
    p.add_argument("--keep", type=int, default=0, help="keep the N newest entries")
    return parser


def _scratch(workdir: Path | None) -> tempfile.TemporaryDirectory | None:
    return None if workdir else tempfile.TemporaryDirectory(prefix="ktstr-kernel-")


def _cleanup(workdir: Path | None, keep: bool) -> None:
    # A given --workdir is scratch too (Bazel passes one inside its output tree); the
    # extracted source and objects are ~3 GB and must not outlive the action.
    if workdir is not None and not keep:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (KconfigError, KernelBuildError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def _fragments(args):
    paths = args.fragment or [DEFAULT_FRAGMENT]
    return load_fragments(paths, args.extra_config)


def cmd_merge(args) -> int:
    sys.stdout.write(merge(load_fragments(args.fragments)).render())
    return 0


def cmd_verify(args) -> int:
    config_text = Path(args.config).read_text()
    mismatches = verify(load_fragments(args.fragments), config_text, srctree=args.srctree)
    if mismatches:
        print(format_report(mismatches), file=sys.stderr)
        return 1
    print(f"ok: every line of {len(args.fragments)} fragment(s) holds in {args.config}")
    return 0


def cmd_configure(args) -> int:
    fragments = _fragments(args)
    scratch = _scratch(args.workdir)
    workdir = (args.workdir or Path(scratch.name)).resolve()
    try:
        srctree = prepare_source(args.source.resolve(), workdir)
        final = configure(srctree, workdir / "build", args.base_config, fragments, args.arch)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(final)
    finally:
        if scratch:
            scratch.cleanup()
        _cleanup(args.workdir, args.keep_workdir)
    log(f"configured and verified: {args.out}")
    return 0


def cmd_build(args) -> int:
    outputs = BuildOutputs(args.out_bzimage, args.out_vmlinux, args.out_config, args.out_release)
    scratch = _scratch(args.workdir)
    workdir = args.workdir or Path(scratch.name)
    try:
        build(
            args.source.resolve(),
            workdir.resolve(),
            outputs,
            base_config=args.base_config,
            fragments=None if args.config else _fragments(args),
            config=args.config.resolve() if args.config else None,
            jobs=args.jobs or os.cpu_count() or 1,
            arch=args.arch,
        )
    finally:
        if scratch:
            scratch.cleanup()
        _cleanup(args.workdir, args.keep_workdir)
    return 0


def cmd_get(args) -> int:
    fragments = _fragments(args)
    cache = KernelCache(args.cache_dir)
    key = CacheKey(source_sha256(args.source), config_sha256(args.base_config, merge(fragments), args.arch))
    entry = cache.lookup(key)
    if entry is None:
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="ktstr-kernel-") as scratch:
            out = Path(scratch) / "out"
            outputs = BuildOutputs(out / "bzImage", out / "vmlinux", out / "config", out / "release")
            build(args.source.resolve(), Path(scratch), outputs, args.base_config, fragments, None, args.jobs,
                  args.arch)
            release = outputs.release.read_text().strip()
            files = {"bzImage": outputs.bzimage, "vmlinux": outputs.vmlinux, "config": outputs.config,
                     "release": outputs.release}
            entry = cache.install(key, files, release, description=f"{args.source.name} + {len(fragments)} fragment(s)")
        log(f"built and cached in {time.monotonic() - start:.1f} s")
    else:
        log("cache hit")
    print(entry.path)
    return 0


def cmd_list(args) -> int:
    entries = KernelCache(args.cache_dir).list()
    if not entries:
        print("no cached kernels")
    for e in entries:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e.created))
        print(f"{e.key.name}  {e.release:<20} {stamp}  {e.description}")
    return 0


def cmd_clean(args) -> int:
    removed = KernelCache(args.cache_dir).clean(keep=args.keep)
    print(f"removed {len(removed)} entr{'y' if len(removed) == 1 else 'ies'}")
    return 0


_COMMANDS = {
    "merge": cmd_merge,
    "verify": cmd_verify,
    "configure": cmd_configure,
    "build": cmd_build,
    "get": cmd_get,
    "list": cmd_list,
    "clean": cmd_clean,
}
