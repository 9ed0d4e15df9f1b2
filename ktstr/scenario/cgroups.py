"""A cgroup v2 manager for one test: cgroups live under <root>/<parent>."""

from __future__ import annotations

import errno
import time
from pathlib import Path

from ktstr.errors import KtstrError
from ktstr.topology import format_cpulist

CGROUP_ROOT = Path("/sys/fs/cgroup")
REMOVE_RETRY_S = 3.0


class CgroupError(KtstrError, RuntimeError):
    pass


class CgroupManager:
    def __init__(self, parent: str = "ktstr", root: Path = CGROUP_ROOT) -> None:
        self.root = Path(root)
        self.parent = self.root / parent
        self.created: list[str] = []

    def setup(self) -> None:
        """Create the parent and delegate cpuset + cpu controllers to its children."""
        self._enable_controllers(self.root)
        self.parent.mkdir(exist_ok=True)
        self._enable_controllers(self.parent)

    def _enable_controllers(self, cg: Path) -> None:
        available = (cg / "cgroup.controllers").read_text().split()
        wanted = [c for c in ("cpuset", "cpu") if c in available]
        if wanted:
            try:
                (cg / "cgroup.subtree_control").write_text(" ".join("+" + c for c in wanted))
            except OSError as exc:
                # cgroup v2's no-internal-process rule: a cgroup with tasks of its own cannot
                # hand domain controllers to its children.
                raise CgroupError(f"cannot enable {' '.join(wanted)} for the children of {cg}: "
                                  f"{exc.strerror} (pids in it: {self._pids_at(cg)}; a cgroup whose "
                                  f"children get cpusets must not hold workers itself)") from exc

    @staticmethod
    def _pids_at(cg: Path) -> list[int]:
        try:
            return [int(x) for x in (cg / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def path(self, name: str) -> Path:
        return self.parent / name

    def create(self, name: str) -> Path:
        """Create `name`; a nested name ("cg_0/sub_a") creates its missing parents too."""
        parts = name.strip("/").split("/")
        if not all(parts) or any(p in (".", "..") for p in parts):
            raise CgroupError(f"bad cgroup name {name!r}: use names like cg_0 or cg_0/sub_a")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            p = self.path(sub)
            try:
                p.mkdir()
            except FileExistsError:
                pass
            except OSError as exc:
                raise CgroupError(f"cannot create cgroup {p}: {exc.strerror}") from exc
            if sub not in self.created:
                self.created.append(sub)
        return self.path(name)

    def set_cpuset(self, name: str, cpus: list[int] | None) -> None:
        """cpus None clears the restriction (the cgroup inherits its parent's CPUs). A nested
        cgroup's ancestors get the cpuset controller enabled for their children first."""
        parts = name.strip("/").split("/")
        for depth in range(1, len(parts)):
            anc = self.path("/".join(parts[:depth]))
            if cpus is not None and "cpuset" not in (anc / "cgroup.subtree_control").read_text().split():
                self._enable_controllers(anc)
        try:
            (self.path(name) / "cpuset.cpus").write_text(format_cpulist(cpus) if cpus else "")
        except OSError as exc:
            raise CgroupError(f"cannot set cpuset {cpus} on cgroup {name}: {exc.strerror}") from exc

    def move_tasks(self, name: str, pids: list[int]) -> None:
        procs = self.path(name) / "cgroup.procs"
        for pid in pids:
            try:
                procs.write_text(str(pid))
            except ProcessLookupError:
                continue  # exited meanwhile
            except OSError as exc:
                raise CgroupError(f"cannot move pid {pid} into cgroup {name}: {exc.strerror}") from exc

    def pids(self, name: str) -> list[int]:
        return [int(x) for x in (self.path(name) / "cgroup.procs").read_text().split()]

    def remove(self, name: str, timeout_s: float = REMOVE_RETRY_S) -> None:
        """rmdir (children first), retrying while the kernel still counts exiting tasks."""
        for child in [c for c in reversed(self.created) if c.startswith(name + "/")]:
            self.remove(child, timeout_s)
        p = self.path(name)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                p.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise CgroupError(f"cannot remove cgroup {p}: {exc.strerror} "
                                      f"(pids left: {self.pids(name)})") from exc
                time.sleep(0.02)
        if name in self.created:
            self.created.remove(name)

    def cleanup(self) -> None:
        for name in reversed(list(self.created)):
            try:
                self.remove(name)
            except CgroupError:
                pass
