"""Abbreviations and aliases: the file format, matching as syllable phrases, what is never expanded."""

from __future__ import annotations

import pytest

from searchsvc.aliases import SHIPPED_ALIASES, expand_aliases, form_key, load_aliases, parse_aliases
from searchsvc.errors import ConfigError
from searchsvc.messages import AliasUse
from searchsvc.query import parse_query

TABLE = parse_aliases(
    """
# comment line
UBND = Ủy ban nhân dân   # trailing comment
TP.HCM = TPHCM = HCM = Thành phố Hồ Chí Minh = Sài Gòn
GD-ĐT = Giáo dục và Đào tạo
ĐT = đội tuyển | bóng đá, U23
ĐT = điện thoại | di động
""",
    "test.txt",
)


def expanded(q: str) -> tuple[str, tuple[AliasUse, ...]]:
    """Return the expanded query as text and what was expanded."""
    expansion = expand_aliases(parse_query(q), TABLE)
    return " ".join(c.text() for c in expansion.parsed.clauses), expansion.uses


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("TP.HCM", ("tp", "hcm")),
        ("TP HCM", ("tp", "hcm")),
        ("tp.hcm", ("tp", "hcm")),
        ("TPHCM", ("tphcm",)),
        ("GD-ĐT", ("gd", "dt")),
        ("GD&ĐT", ("gd", "dt")),
        ("Ủy ban nhân dân", ("uy", "ban", "nhan", "dan")),
        ("Uỷ ban nhân dân", ("uy", "ban", "nhan", "dan")),
    ],
)
def test_forms_are_compared_as_folded_syllables(text, key):
    assert form_key(text) == key


def test_an_abbreviation_becomes_an_or_of_its_forms():
    assert expanded("UBND Hà Nội") == (
        'UBND OR "Ủy ban nhân dân" Hà Nội',
        (AliasUse("UBND", ("Ủy ban nhân dân",)),),
    )


def test_the_long_form_typed_as_words_finds_the_abbreviation():
    assert expanded("uy ban nhan dan quan 1") == (
        '"uy ban nhan dan" OR UBND quan 1',
        (AliasUse("uy ban nhan dan", ("UBND",)),),
    )


@pytest.mark.parametrize("q", ["TP.HCM", "tp.hcm", "TP HCM", "tphcm", "hcm", "sai gon", "Sài Gòn"])
def test_every_written_form_of_a_group_expands(q):
    text, used = expanded(q)
    searched = {form_key(f) for f in (used[0].typed, *used[0].aliases)}
    assert searched == {form_key(f) for f in ("TP.HCM", "TPHCM", "HCM", "Thành phố Hồ Chí Minh", "Sài Gòn")}
    assert text.count(" OR ") == 4


@pytest.mark.parametrize("q", ['"UBND"', "-UBND", "UBND*", "title:UBND", "UBND OR xyz"])
def test_quoted_negated_prefixed_field_and_or_words_are_never_expanded(q):
    assert expanded(q)[1] == ()


@pytest.mark.parametrize(
    ("q", "meaning"),
    [("ĐT bóng đá", "đội tuyển"), ("ĐT di động", "điện thoại"), ("ĐT", None), ("dt u23", "đội tuyển")],
)
def test_an_ambiguous_form_expands_only_where_the_query_decides(q, meaning):
    used = expanded(q)[1]
    assert (used[0].aliases[0] if used else None) == meaning


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("UBND", "test.txt:1: an alias line needs two forms"),
        ("UBND = ", "test.txt:1: an alias line needs two forms"),
        ("A = ...", "test.txt:1: '...' must have 1 to 8 syllables"),
        ("ĐT = đội tuyển |", None),
        ("ĐT = đội tuyển | ,", "test.txt:1: the context after '|' lists no word"),
        ("UBND = Ủy ban nhân dân\nubnd = chính quyền", "test.txt:2: 'ubnd' is already a form at test.txt:1"),
    ],
)
def test_malformed_lines_name_file_and_line(text, message):
    if message is None:
        assert len(parse_aliases(text, "test.txt").groups) == 1
        return
    with pytest.raises(ConfigError) as caught:
        parse_aliases(text, "test.txt")
    assert str(caught.value).startswith(message)


def test_later_files_add_groups_and_a_missing_file_is_an_error(tmp_path):
    own = tmp_path / "newsroom.txt"
    own.write_text("VTV = Đài Truyền hình Việt Nam\n", encoding="utf-8")
    table = load_aliases(f"{SHIPPED_ALIASES}, {own}")
    assert table.groups_of(("vtv",)) and table.groups_of(("ubnd",))
    assert load_aliases("").groups == ()
    with pytest.raises(ConfigError, match="alias file not found"):
        load_aliases(str(tmp_path / "missing.txt"))


def test_the_shipped_list_loads_and_covers_the_newsroom_abbreviations():
    table = load_aliases(str(SHIPPED_ALIASES))
    for form in (
        "UBND",
        "TP.HCM",
        "TPHCM",
        "HCM",
        "Sài Gòn",
        "CSGT",
        "THPT",
        "ĐBSCL",
        "BHXH",
        "HĐND",
        "GD-ĐT",
    ):
        assert table.groups_of(form_key(form)), form
    # `ĐT` has several meanings: it is only expanded with a context.
    assert all(table.groups[i].context for i in table.groups_of(("dt",)))
