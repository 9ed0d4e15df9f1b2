"""The .bcr/ templates agree with tools/release.sh: the registry's source.template.json must
name the archive release.sh makes and the directory inside it, and presubmit.yml's test
module must exist. Shown failing on planted mismatches."""

from __future__ import annotations

import json
import re

from tools.lint.source_tree import root


def release_names(script: str) -> tuple[str, str]:
    """(archive file name, top directory) release.sh makes, with {VERSION} for $version."""
    archive = re.search(r'^archive="\$out/([^"]+)"$', script, re.M)
    prefix = re.search(r'^prefix="([^"]+)"$', script, re.M)
    assert archive and prefix, "tools/release.sh no longer sets archive= and prefix= as this check reads them"
    return archive.group(1).replace("$version", "{VERSION}"), prefix.group(1).replace("$version", "{VERSION}")


def mismatches(script: str, source: dict) -> list[str]:
    archive, prefix = release_names(script)
    out = []
    if source.get("strip_prefix") != prefix:
        out.append(f"source.template.json strip_prefix {source.get('strip_prefix')!r} != release.sh's {prefix!r}")
    if not str(source.get("url", "")).endswith("/" + archive):
        out.append(f"source.template.json url {source.get('url')!r} does not name release.sh's {archive!r}")
    return out


def _script() -> str:
    return (root() / "tools" / "release.sh").read_text()


def _source() -> dict:
    return json.loads((root() / ".bcr" / "source.template.json").read_text())


def test_source_template_names_the_release_archive():
    assert mismatches(_script(), _source()) == []


def test_metadata_template_is_json():
    assert "versions" in json.loads((root() / ".bcr" / "metadata.template.json").read_text())


def test_presubmit_module_exists():
    text = (root() / ".bcr" / "presubmit.yml").read_text()
    m = re.search(r'^\s*module_path:\s*"([^"]+)"', text, re.M)
    assert m and (root() / m.group(1) / "MODULE.bazel").is_file()


def test_a_changed_prefix_is_found():
    found = mismatches(_script().replace('prefix="ktstr-$version"', 'prefix="ktstr-v$version"'), _source())
    assert len(found) == 1 and "strip_prefix" in found[0]


def test_a_changed_archive_name_is_found():
    found = mismatches(_script(), dict(_source(), url="https://x/releases/download/v1/ktstr.tar.gz"))
    assert len(found) == 1 and "url" in found[0]
