"""The kernel_source repository rule's errors, run by a real (nested) Bazel.

A fetch that succeeds extracts 1.7 GB and is what every //kernels build does; these are the
ways it must refuse, each naming the input and the fix, before anything is extracted. A
source that is only missing on this machine (the Debian package not installed, or no dpkg)
does not stop the fetch: queries and analysis still work, and building the source fails
with the message instead.
"""

import os
import shutil
import subprocess

import pytest

from tests.nested_bazel import java_home, real_bazel

RULES = ["rules/repositories.bzl", "rules/providers.bzl", "rules/private/engines.bzl",
         "rules/private/kernel_source.bzl", "rules/private/host_tools.bzl", "rules/private/python_repositories.bzl",
         "rules/private/kernels_repository.bzl"]


@pytest.fixture
def fetch(tmp_path):
    """fetch(attrs) -> (exit code, stderr) of `bazel query @k//:source` (or another verb) for
    kernel_source(name = "k", **attrs), with ktstr's rules as @ktstr."""
    ktstr = tmp_path / "ktstr"
    for f in RULES:
        (ktstr / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, ktstr / f)
    (ktstr / "WORKSPACE").write_text('workspace(name = "ktstr")\n')
    (ktstr / "rules/BUILD.bazel").write_text("")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "BUILD").write_text("")

    def run(attrs: str, path: str = os.environ.get("PATH", ""), verb: str = "query") -> tuple[int, str]:
        (ws / "WORKSPACE").write_text(
            f'local_repository(name = "ktstr", path = "{ktstr}")\n'
            'load("@ktstr//rules:repositories.bzl", "kernel_source")\n'
            f'kernel_source(name = "k", {attrs})\n')
        proc = subprocess.run(
            [real_bazel(), "--batch", f"--output_user_root={tmp_path / 'root'}", verb, "@k//:source"],
            cwd=ws, capture_output=True, text=True, timeout=300,
            env={**os.environ, "HOME": str(tmp_path), "PATH": path, "JAVA_HOME": java_home()})
        return proc.returncode, proc.stderr

    return run


def test_a_missing_debian_package_is_named_with_the_install_command(fetch):
    rc, err = fetch('debian_package = "linux-source-0.0-not-a-package"')
    assert rc == 0, err  # the repository loads: analysis needs no source
    rc, err = fetch('debian_package = "linux-source-0.0-not-a-package"', verb="build")
    assert rc != 0
    assert "Debian package linux-source-0.0-not-a-package is not installed" in err
    assert "apt-get install linux-source-0.0-not-a-package" in err


def test_a_sha256_pin_refuses_another_release_naming_both_digests(fetch):
    if not os.path.exists("/usr/src/linux-source-6.12.tar.xz"):
        pytest.skip("linux-source-6.12 is not installed (tools/debian-packages.txt has it)")
    rc, err = fetch('debian_package = "linux-source-6.12", sha256 = "' + "0" * 64 + '"')
    assert rc != 0
    assert "but sha256 pins " + "0" * 64 in err
    assert "drop sha256 to follow Debian" in err


def test_exactly_one_source_is_required(fetch):
    rc, err = fetch('debian_package = "linux-source-6.12", path = "/usr/src"')
    assert rc != 0
    assert "set exactly one of debian_package, tarball, urls, path (got: debian_package, path)" in err


def test_debian_package_off_debian_says_what_to_declare_instead(fetch):
    rc, err = fetch('debian_package = "linux-source-6.12"', path="/nonexistent")  # no dpkg-query
    assert rc == 0, err
    rc, err = fetch('debian_package = "linux-source-6.12"', path="/nonexistent", verb="build")
    assert rc != 0
    assert "needs a Debian host (no dpkg-query on PATH)" in err
    assert "tarball + sha256, urls + sha256 or path" in err
