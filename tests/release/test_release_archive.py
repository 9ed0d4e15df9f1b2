"""tools/release.sh makes an archive a monorepo can pin: examples/consumer, with its
local_repository replaced by the http_archive snippet release.sh printed (a file:// URL of the
archive, its sha256), loads and analyzes with a nested Bazel. Analysis only: nothing is built.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.nested_bazel import copy_checkout, run_bazel

VERSION = "0.0.0-test"


def release(tmp_path: Path) -> tuple[Path, str]:
    """A committed copy of the checkout, released by its own tools/release.sh: (archive, output)."""
    src = copy_checkout(tmp_path / "src")
    git = ["git", "-c", "user.name=ktstr-test", "-c", "user.email=test@ktstr.invalid", "-C", str(src)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "release under test"]):
        subprocess.run(git + args, check=True, capture_output=True)
    proc = subprocess.run([str(src / "tools" / "release.sh"), VERSION, str(tmp_path / "dist")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "dist" / f"ktstr-{VERSION}.tar.gz", proc.stdout


def workspace_snippet(output: str) -> str:
    """The http_archive part of release.sh's WORKSPACE snippet."""
    m = re.search(r'^load\("@bazel_tools//tools/build_defs/repo:http\.bzl".*?^\)\n', output, re.S | re.M)
    assert m, output
    return m.group(0)


def consumer_from_archive(tmp_path: Path, snippet: str) -> Path:
    """examples/consumer with `@ktstr` from the archive instead of the checkout."""
    ws = tmp_path / "consumer"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "consumer", ws)
    text = (ws / "WORKSPACE").read_text()
    local = re.search(r'^local_repository\(\n    name = "ktstr",\n.*?^\)\n', text, re.S | re.M)
    assert local, "examples/consumer/WORKSPACE no longer declares @ktstr as local_repository"
    (ws / "WORKSPACE").write_text(text[:local.start()] + snippet + text[local.end():])
    return ws


def test_release_sh_archive_and_snippet(tmp_path):
    archive, output = release(tmp_path)
    sha256 = subprocess.run(["sha256sum", str(archive)], capture_output=True, text=True,
                            check=True).stdout.split()[0]
    assert f"sha256:  {sha256}" in output
    assert (archive.parent / (archive.name + ".sha256")).read_text().startswith(sha256)
    listing = subprocess.run(["tar", "-tzf", str(archive)], capture_output=True, text=True, check=True).stdout
    assert f"ktstr-{VERSION}/rules/defs.bzl" in listing.split("\n")
    snippet = workspace_snippet(output)
    assert sha256 in snippet and f"file://{archive}" in snippet

    ws = consumer_from_archive(tmp_path, snippet)
    home = tmp_path / "home"
    query = run_bazel(ws, home, "query", "//...", timeout=600)
    assert query.returncode == 0, query.stderr[-4000:]
    assert "//sched:fifo_test" in query.stdout.split("\n")
    build = run_bazel(ws, home, "build", "--nobuild", "//...", timeout=900)
    assert build.returncode == 0, build.stderr[-4000:]
    # @ktstr came from the archive (fetched and checked against its sha256), not a checkout.
    assert "local_repository" not in (ws / "WORKSPACE").read_text()
    fetched = [p for p in (home / "bazel").glob("*/external/ktstr") if (p / "rules" / "defs.bzl").exists()]
    assert len(fetched) == 1 and not (fetched[0] / ".git").exists(), fetched


def test_release_refuses_a_dirty_tree(tmp_path):
    src = copy_checkout(tmp_path / "src")
    git = ["git", "-c", "user.name=ktstr-test", "-c", "user.email=test@ktstr.invalid", "-C", str(src)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
        subprocess.run(git + args, check=True, capture_output=True)
    (src / "README.md").write_text("changed\n")
    proc = subprocess.run([str(src / "tools" / "release.sh"), VERSION, str(tmp_path / "dist")],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "uncommitted changes" in proc.stderr
    assert not (tmp_path / "dist" / f"ktstr-{VERSION}.tar.gz").exists()
