"""How every `ktstr` subcommand is declared: a one-line summary for `ktstr --help`, a
description, and at least one example in its `--help` (tests/cli checks all of them)."""

from __future__ import annotations

import argparse
from typing import Sequence


def add_subcommand(sub: "argparse._SubParsersAction", name: str, summary: str, examples: Sequence[str],
                   description: str = "") -> argparse.ArgumentParser:
    """A subcommand's parser whose --help ends with its examples, kept as written."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    return sub.add_parser(name, help=summary, description=description or summary, epilog=epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
