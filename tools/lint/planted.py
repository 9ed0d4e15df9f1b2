"""A package written into a test's temporary directory: the structural gates' tests plant
their violations in one and run the gate on it."""

import textwrap
from pathlib import Path


def write_package(tmp_path: Path, files: dict[str, str], name: str = "pkg") -> Path:
    """`files`: path under the package -> source (dedented). Returns the package directory."""
    pkg = tmp_path / name
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return pkg
