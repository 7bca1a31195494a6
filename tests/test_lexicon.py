"""The corpus vocabulary: accent restoration, typo correction, autocomplete."""

from __future__ import annotations

import pytest

from searchsvc.lexicon import (
    Completion,
    LayeredLexicon,
    LexiconBuilder,
    discard_additions_after,
    load_lexicon,
    prefix_key,
    record_additions,
    save_lexicon,
    with_additions,
)


@pytest.fixture(scope="module")
def lexicon():
    """Build a lexicon from three titles and two summaries."""
    builder = LexiconBuilder()
    builder.add("Hà Nội khẩn trương ứng phó bão", "Hà Nội mưa lớn.")
    builder.add("Sau bão, Hà Nội dọn dẹp", None)
    builder.add("Đà Nẵng đón khách", "Khách đến Đà Nẵng")
    return builder.build()


def test_restore_accents(lexicon):
    assert lexicon.restore_accents(["ha", "noi", "bao"]) == ["Hà", "Nội", "bão"]
    assert lexicon.restore_accents(["xyz"]) == ["xyz"]


@pytest.mark.parametrize(("typed", "fixed"), [("haa", "ha"), ("bao", None), ("nooi", "noi"), ("qqqqq", None)])
def test_correct(lexicon, typed, fixed):
    assert lexicon.correct(typed) == fixed


def test_word_counts(lexicon):
    assert (lexicon.best_form("da"), lexicon.count("noi"), lexicon.count("xyz")) == ("đà", 3, 0)


def test_complete(lexicon):
    assert lexicon.complete("ha n") == [
        Completion("Hà Nội", "<mark>Hà N</mark>ội", 2),
        Completion("Hà Nội khẩn trương ứng phó bão", "<mark>Hà N</mark>ội khẩn trương ứng phó bão", 1),
    ]
    assert lexicon.complete("ĐÀ NẴ") == [Completion("Đà Nẵng đón khách", "<mark>Đà Nẵ</mark>ng đón khách", 1)]
    assert lexicon.complete("") == []


@pytest.mark.parametrize(("typed", "key"), [("Hà  Nội ", "ha noi "), ("ĐÀ", "da"), ("", ""), ("  ", "")])
def test_prefix_key(typed, key):
    assert prefix_key(typed) == key


def test_save_and_load(lexicon, tmp_path):
    save_lexicon(lexicon, tmp_path)
    again = load_lexicon(tmp_path)
    assert (again.words, again.pairs, again.complete("ha n")) == (
        lexicon.words,
        lexicon.pairs,
        lexicon.complete("ha n"),
    )


@pytest.fixture(scope="module")
def quoted():
    """Build a lexicon of titles that start with punctuation or hold it between words."""
    builder = LexiconBuilder()
    builder.add("'Giày thủy tinh' trở lại sân khấu Hà Nội", None)
    builder.add("“Đà Nẵng, mùa lễ hội” – phóng sự ảnh", None)
    builder.add("COVID-19: Hà Nội thêm 2.000 ca", None)
    return builder.build()


@pytest.mark.parametrize(
    ("typed", "html"),
    [
        ("giay thuy", "&#x27;<mark>Giày thủy</mark> tinh&#x27; trở lại sân khấu Hà Nội"),
        ("giay thu", "&#x27;<mark>Giày thủ</mark>y tinh&#x27; trở lại sân khấu Hà Nội"),
        ("GIÀY", "&#x27;<mark>Giày</mark> thủy tinh&#x27; trở lại sân khấu Hà Nội"),
        ("da nang mua", "“<mark>Đà Nẵng, mùa</mark> lễ hội” – phóng sự ảnh"),
        ("covid 19 ha", "<mark>COVID-19: Hà</mark> Nội thêm 2.000 ca"),
        ("covid 19 ha noi them 20", "<mark>COVID-19: Hà Nội thêm 2.0</mark>00 ca"),
    ],
)
def test_completion_marks_the_typed_letters_past_punctuation(quoted, typed, html):
    assert [c.html for c in quoted.complete(typed)] == [html]


# ---------------------------------------------------------------- additions by `index add`


def test_restore_accents_takes_each_word_from_its_commoner_pair():
    builder = LexiconBuilder()
    for title in [
        "Bão lụt ở miền Trung",
        "Bão lụt gây thiệt hại",
        "Báo chí miễn phí",
        "Báo chí và miễn thuế",
    ]:
        builder.add(title, "Báo cáo miễn phí, báo giá miễn thuế.")
    builder.add("Tỉnh miền Trung", None)
    lexicon = builder.build()
    # Lone words: `báo`, `miễn` are commoner; the pairs say otherwise. A sentence's capital is dropped.
    assert (lexicon.best_form("bao"), lexicon.best_form("mien")) == ("báo", "miễn")
    assert lexicon.restore_accents(["bao", "lut", "mien", "trung"]) == ["bão", "lụt", "miền", "Trung"]


def test_additions_layer_over_the_base_and_deletions_take_words_out():
    base = LexiconBuilder()
    base.add("Hà Nội mưa lớn", None)
    base.add("Hà Nội mưa lớn", None)
    added = LexiconBuilder()
    added.add("Ông Khổng Minh Quyết nhậm chức", "Ông Khổng Minh Quyết phát biểu.")
    added.add("Hà Nội mưa lớn", None, weight=-1)
    added.add("Hà Nội mưa lớn", None, weight=-1)
    layered = LayeredLexicon(base.build(), added.build(threshold=1))
    assert layered.best_form("khong") == "khổng"
    assert layered.restore_accents(["khong", "minh", "quyet"]) == ["Khổng", "Minh", "Quyết"]
    assert [c.text for c in layered.complete("khong minh q")] == ["Khổng Minh Quyết", "Khổng Minh Quyết nhậm"]
    # Both articles with `Hà Nội mưa lớn` were deleted: nothing completes to it any more.
    assert (layered.complete("ha noi mua"), layered.count("mua"), layered.pair_count("ha", "noi")) == (
        [],
        0,
        0,
    )


def test_additions_are_read_for_their_toc_only(tmp_path):
    builder = LexiconBuilder()
    builder.add("Ông Khổng Minh Quyết nhậm chức", None)
    record_additions(builder, tmp_path, 3)
    base = LexiconBuilder().build()
    assert with_additions(base, tmp_path, 2) is base  # written for TOC 3, never committed at TOC 2
    assert with_additions(base, tmp_path, 3).best_form("quyet") == "quyết"
    assert with_additions(base, tmp_path, 7).best_form("quyet") == "quyết"
    discard_additions_after(tmp_path, 2)
    assert with_additions(base, tmp_path, 3) is base


def test_additions_updated_key_by_key_equal_a_build_of_all_their_counts(tmp_path):
    titles = [
        ("Hà Nội mưa lớn", "Mưa lớn ở Hà Nội."),
        ("Ông Khổng Minh Quyết nhậm chức", "Ông Quyết phát biểu."),
        ("Hà Nội mưa lớn", None),
    ]
    everything = LexiconBuilder()
    for toc, (title, summary) in enumerate(titles, 1):
        change = LexiconBuilder()
        change.add(title, summary)
        everything.add(title, summary)
        record_additions(change, tmp_path, toc)
    deleted = LexiconBuilder()
    deleted.add("Hà Nội mưa lớn", None, weight=-1)
    everything.add("Hà Nội mưa lớn", None, weight=-1)
    record_additions(deleted, tmp_path, 4)
    layered = with_additions(LexiconBuilder().build(), tmp_path, 4)
    full = everything.build(threshold=1)
    assert (layered.extra.words, layered.extra.pairs) == (full.words, full.pairs)
    assert (list(layered.extra.keys), list(layered.extra.entries)) == (full.keys, full.entries)
