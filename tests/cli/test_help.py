"""Every `ktstr` subcommand's --help says what it does and shows how to call it."""

import argparse

import pytest

from ktstr.cli.help import add_subcommand
from ktstr.cli.main import parser


def subcommands(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1, "ktstr has one level of subcommands"
    return dict(actions[0].choices)


def undocumented(p: argparse.ArgumentParser) -> list[str]:
    """The subcommands whose --help lacks a description or an example command line."""
    bad = []
    for name, sp in subcommands(p).items():
        help_text = sp.format_help()
        examples = help_text.split("examples:\n", 1)[1].splitlines() if "examples:\n" in help_text else []
        runnable = [e for e in examples if e.strip().startswith(("ktstr ", "bazel run @ktstr//:ktstr -- "))
                    and f" {name}" in e]
        if not (sp.description or "").strip() or not runnable:
            bad.append(name)
    return bad


def test_every_subcommand_has_a_description_and_an_example():
    p = parser()
    names = set(subcommands(p))
    assert {"run", "selftests", "shell", "list", "show", "compare", "verifier"} <= names
    assert undocumented(p) == []


def test_a_subcommand_without_an_example_is_caught():
    # The gate above on a planted fault: one subcommand with no example, one whose example
    # calls another subcommand, one with no description.
    p = argparse.ArgumentParser(prog="ktstr")
    sub = p.add_subparsers(dest="command")
    add_subcommand(sub, "good", "does it", ["ktstr good --x"])
    add_subcommand(sub, "bare", "no example", [])
    add_subcommand(sub, "other", "wrong example", ["ktstr good --x"])
    sub.add_parser("plain")
    assert undocumented(p) == ["bare", "other", "plain"]


@pytest.mark.parametrize("name", ["run", "selftests", "shell", "list", "show", "compare", "verifier"])
def test_help_exits_zero_and_prints_the_examples(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args([name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: ktstr {name}") and "examples:\n  " in out
