#!/bin/bash
# A release a monorepo can pin: the source archive of HEAD (git archive), its sha256, and the
# snippets for the README and the release notes.
#
#   tools/release.sh [VERSION] [OUT_DIR]
#
# VERSION defaults to MODULE.bazel's module version, OUT_DIR to dist/. Writes
# OUT_DIR/ktstr-VERSION.tar.gz (top directory ktstr-VERSION/) and OUT_DIR/ktstr-VERSION.tar.gz.sha256,
# then prints the WORKSPACE and bzlmod snippets. KTSTR_RELEASE_URL overrides the URL the
# snippets name (default: the GitHub release asset URL of KTSTR_RELEASE_REPO, or
# file://<archive> when that is unset). Only what is committed is released: a dirty tree is
# refused (commit or stash first).
set -euo pipefail

die() { echo "tools/release.sh: $*" >&2; exit 1; }

root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel 2>/dev/null) \
    || die "not inside ktstr's git checkout (the archive is made by git archive of HEAD)"
cd "$root"

module_version=$(sed -n 's/^ *version = "\([^"]*\)",$/\1/p' MODULE.bazel | head -n1)
version=${1:-$module_version}
[[ -n "$version" ]] || die "no VERSION given and none found in MODULE.bazel's module()"
[[ "$version" =~ ^[0-9A-Za-z._+-]+$ ]] || die "VERSION '$version' has characters a file name or tag should not"
[[ "$version" == "$module_version" ]] \
    || echo "tools/release.sh: note: VERSION $version differs from MODULE.bazel's $module_version" >&2
out=${2:-dist}

if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
    die "the working tree has uncommitted changes; the archive is HEAD only: commit or stash them first"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
archive="$out/ktstr-$version.tar.gz"
prefix="ktstr-$version"
# git archive's gzip output depends only on the commit (and git's version): the same commit
# gives the same bytes, so the sha256 is reproducible.
git archive --format=tar.gz --prefix="$prefix/" -o "$archive" HEAD
sha256=$(sha256sum "$archive" | cut -d' ' -f1)
echo "$sha256  $(basename "$archive")" >"$archive.sha256"
integrity="sha256-$(openssl dgst -sha256 -binary "$archive" | base64 -w0)"
commit=$(git rev-parse HEAD)

if [[ -n "${KTSTR_RELEASE_URL:-}" ]]; then
    url=$KTSTR_RELEASE_URL
elif [[ -n "${KTSTR_RELEASE_REPO:-}" ]]; then
    url="https://github.com/$KTSTR_RELEASE_REPO/releases/download/v$version/ktstr-$version.tar.gz"
else
    url="file://$archive"
fi

cat <<EOF
archive: $archive
sha256:  $sha256
commit:  $commit

# WORKSPACE (Bazel 4-6; tested with 4.2.3):
load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

http_archive(
    name = "ktstr",
    sha256 = "$sha256",
    strip_prefix = "$prefix",
    urls = ["$url"],
)

load("@ktstr//rules:repositories.bzl", "ktstr_dependencies")

ktstr_dependencies()

# MODULE.bazel (Bazel 7/8; UNVERIFIED: only Bazel 4.2.3 runs where this was made).
# Until ktstr is in a registry, pin it with an override:
bazel_dep(name = "ktstr", version = "$version")
archive_override(
    module_name = "ktstr",
    integrity = "$integrity",
    strip_prefix = "$prefix",
    urls = ["$url"],
)
# or the commit itself:
# git_override(module_name = "ktstr", remote = "<ktstr's git URL>", commit = "$commit")
EOF
