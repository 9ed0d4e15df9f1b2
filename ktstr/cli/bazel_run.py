"""`ktstr` under `bazel run @ktstr//:ktstr -- ...`: the user's directory and the build's defaults.

Bazel starts a `bazel run` binary in its runfiles tree, not where the user typed the command;
it names that directory in $BUILD_WORKING_DIRECTORY. The CLI moves there before it reads any
argument, so every relative path (test sources, --out, result.json, the default ktstr-out)
means what it meant on the user's command line, for every subcommand and option at once.

The //:ktstr target carries //kernels:default and //initramfs:base in its runfiles: the base
image next to the ktstr package (runfiles/<ktstr's repository>/initramfs/base.cpio whatever
that repository is called: ktstr, ktstr~, _main), the kernel beside it in @ktstr_kernels'
(runfiles/ktstr_kernels/default/bzImage: rules/private/kernels_repository.bzl says why the
kernels have a repository of their own). When --kernel or --initramfs is not given they
come from there; a ktstr without them (python -m ktstr.cli, the installed console script)
says which option to give and where a build puts the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import ktstr
from ktstr.errors import KtstrError

WORKING_DIRECTORY_ENV = "BUILD_WORKING_DIRECTORY"


class MissingInputError(KtstrError, ValueError):
    """A VM input (kernel, initramfs) was not given and this ktstr has no default for it."""


@dataclass(frozen=True)
class BuildDefault:
    """One default input of the //:ktstr target: its option, its file below its repository
    in the runfiles, the target that builds it, and that repository when it is not ktstr's
    own (a sibling of ktstr's in the runfiles; under external/ in bazel-bin)."""

    option: str
    relpath: str
    target: str
    repository: str = ""

    def path(self, repo_root: Optional[Path] = None) -> Optional[Path]:
        """The file in this ktstr's runfiles, or None when it has none (not under Bazel)."""
        root = repo_root or ktstr_repo_root()
        candidate = (root.parent / self.repository if self.repository else root) / self.relpath
        return candidate if candidate.is_file() else None

    def built(self) -> Path:
        """Where `bazel build` of its target leaves the file, from the workspace root."""
        return Path("bazel-bin", *(["external", self.repository] if self.repository else []), self.relpath)

    def missing(self, command: str) -> MissingInputError:
        built = self.built()
        return MissingInputError(
            f"no {self.option} given, and this ktstr has no default one (`bazel run @ktstr//:ktstr -- "
            f"{command} ...` brings {self.target}'s). Give {self.option} PATH, e.g. "
            f"{self.option} {built} after `bazel build {self.target}`")


KERNEL = BuildDefault("--kernel", "default/bzImage", "@ktstr//kernels:default", repository="ktstr_kernels")
INITRAMFS = BuildDefault("--initramfs", "initramfs/base.cpio", "@ktstr//initramfs:base")


def ktstr_repo_root() -> Path:
    """The directory holding the ktstr package: under Bazel, ktstr's repository in the
    runfiles (where the target's data sits too); elsewhere the checkout or site-packages."""
    return Path(os.path.abspath(ktstr.__file__)).parents[1]


def enter_working_directory(env: Mapping[str, str] = os.environ) -> Optional[Path]:
    """Under `bazel run`: chdir to the directory the user ran Bazel in; else stay. Returns
    the directory entered, if any."""
    where = env.get(WORKING_DIRECTORY_ENV)
    if not where:
        return None
    os.chdir(where)
    return Path(where)


def kernel_or_default(given: Optional[str], command: str, repo_root: Optional[Path] = None) -> str:
    """--kernel as given, else the build's default kernel, else a MissingInputError."""
    if given:
        return given
    found = KERNEL.path(repo_root)
    if found is None:
        raise KERNEL.missing(command)
    return str(found)


def initramfs_or_default(given: Optional[list[str]], command: str, repo_root: Optional[Path] = None) -> list[str]:
    """--initramfs layers as given, else the build's base initramfs, else a MissingInputError."""
    if given:
        return given
    found = INITRAMFS.path(repo_root)
    if found is None:
        raise INITRAMFS.missing(command)
    return [str(found)]
