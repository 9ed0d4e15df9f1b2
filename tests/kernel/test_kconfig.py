"""Fragment parsing, merging (last wins) and applying to a .config."""

import pytest

from ktstr.kernel.kconfig import (
    KconfigError,
    apply_to_config,
    merge,
    parse_config_values,
    parse_fragment,
    parse_fragment_text,
)


def test_parse_values_and_not_set_means_n():
    frag = parse_fragment_text(
        "# a comment\n\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=\"str x\"\nCONFIG_E=0x10\n",
        "f.kconfig",
    )
    assert {k: s.value for k, s in frag.settings.items()} == {
        "A": "y",
        "B": "m",
        "C": "n",
        "D": '"str x"',
        "E": "0x10",
    }
    assert frag.settings["C"].origin == "f.kconfig:5"
    assert frag.settings["C"].line() == "# CONFIG_C is not set"


def test_garbage_line_names_file_and_line():
    with pytest.raises(KconfigError) as err:
        parse_fragment_text("CONFIG_A=y\nCONFG_TYPO=y\n", "user.kconfig")
    assert "user.kconfig:2" in str(err.value)
    assert "CONFG_TYPO" in str(err.value)


def test_empty_value_and_unterminated_string_are_errors():
    with pytest.raises(KconfigError, match="CONFIG_A has an empty value"):
        parse_fragment_text("CONFIG_A=\n", "f")
    with pytest.raises(KconfigError, match="unterminated"):
        parse_fragment_text('CONFIG_A="abc\n', "f")


def test_missing_fragment_file_is_named(tmp_path):
    with pytest.raises(KconfigError, match="nope.kconfig"):
        parse_fragment(tmp_path / "nope.kconfig")


def test_merge_last_wins_and_keeps_origin():
    first = parse_fragment_text("CONFIG_A=y\nCONFIG_B=y\n", "first")
    second = parse_fragment_text("# CONFIG_A is not set\nCONFIG_C=y\n", "second")
    merged = merge([first, second])
    assert merged.lines() == ["CONFIG_B=y", "# CONFIG_A is not set", "CONFIG_C=y"]
    assert merged.settings["A"].origin == "second:1"
    # Within one fragment the later line wins too.
    assert parse_fragment_text("CONFIG_A=y\nCONFIG_A=n\n", "f").settings["A"].value == "n"


def test_hash_ignores_comments_but_not_values():
    a = parse_fragment_text("# hello\nCONFIG_A=y\n", "a")
    b = parse_fragment_text("CONFIG_A=y\n\n# other comment\n", "b")
    c = parse_fragment_text("CONFIG_A=m\n", "c")
    assert a.sha256() == b.sha256()
    assert a.sha256() != c.sha256()


def test_apply_to_config_moves_fragment_lines_last():
    config = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_NR=8\nCONFIG_SIZE=y\n"
    frag = parse_fragment_text("# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_NEW=y\nCONFIG_NR=256\n", "f")
    out = apply_to_config(config, frag)
    # The base's other lines stay in order; a fragment's choice member (B) follows the
    # base's (SIZE), so Kconfig, which keeps the last =y member of a choice, picks it.
    assert out == "CONFIG_SIZE=y\n# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_NEW=y\nCONFIG_NR=256\n"
    assert parse_config_values(out) == {"A": "n", "B": "y", "NR": "256", "NEW": "y", "SIZE": "y"}
