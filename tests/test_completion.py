"""Autocomplete offers whole phrases and titles a reader would pick, not sentence fragments."""

from __future__ import annotations

import pytest

from searchsvc.lexicon import LexiconBuilder

TITLES = [
    "Thủ tướng Phạm Minh Chính thăm Nhật Bản",
    "Thủ tướng Phạm Minh Chính dự hội nghị",
    "Thủ tướng Phạm Minh Chính gặp doanh nghiệp",
    "Thủ tướng yêu cầu các bộ giải ngân",
    "Thủ tướng yêu cầu xử lý nghiêm",
    "Thủ tướng yêu cầu tháo gỡ vướng mắc",
    "Thủ tướng và các bộ trưởng họp",
    "Thủ tướng và nhân dân",
    "Giá vàng tăng mạnh",
    "Giá vàng giảm",
    "Giá xăng tăng",
]


@pytest.fixture(scope="module")
def lexicon():
    """Build a lexicon from titles where names and verbs recur."""
    builder = LexiconBuilder()
    for title in TITLES:
        builder.add(title, None)
    return builder.build()


def texts(lexicon, typed: str) -> list[str]:
    """Return the completions offered for ``typed``."""
    return [c.text for c in lexicon.complete(typed)]


@pytest.mark.parametrize("typed", ["thu tuong", "Thủ tướng", "THU TUONG P", "thu tuong y", "thu"])
def test_no_fragment_is_offered(lexicon, typed):
    offered = texts(lexicon, typed)
    assert offered
    for fragment in (
        "Thủ tướng Phạm",
        "Thủ tướng Phạm Minh",
        "Thủ tướng yêu",
        "Thủ tướng và",
        "Thủ tướng và các",
    ):
        assert fragment not in offered


def test_a_name_is_completed_to_its_end(lexicon):
    # Counted phrases stop at four words; the name goes on to the word that always follows.
    assert texts(lexicon, "thu tuong p")[0] == "Thủ tướng Phạm Minh Chính"
    assert texts(lexicon, "pham m") == ["Phạm Minh Chính"]


def test_whole_phrases_come_first_then_titles(lexicon):
    assert texts(lexicon, "thu tuong") == [
        "Thủ tướng",
        "Thủ tướng Phạm Minh Chính",
        "Thủ tướng yêu cầu",
        "Thủ tướng Phạm Minh Chính dự hội nghị",
        "Thủ tướng Phạm Minh Chính gặp doanh nghiệp",
        "Thủ tướng Phạm Minh Chính thăm Nhật Bản",
        "Thủ tướng và các bộ trưởng họp",
        "Thủ tướng và nhân dân",
    ]


def test_a_phrase_never_ends_on_a_function_word(lexicon):
    assert all(not t.endswith((" và", " các")) for t in texts(lexicon, "thu tuong v"))
    offered = texts(lexicon, "gia")
    # "Giá" nearly always goes on as "Giá vàng"; "Giá xăng" is seen once: a title, not a phrase.
    assert (offered[0], "Giá" in offered, "Giá xăng" in offered) == ("Giá vàng", False, False)


def test_the_typed_part_stays_marked(lexicon):
    first = lexicon.complete("thu tuong p")[0]
    assert first.html == "<mark>Thủ tướng P</mark>hạm Minh Chính"


def test_an_index_add_layer_keeps_whole_names(lexicon):
    from searchsvc.lexicon import LayeredLexicon

    added = LexiconBuilder()
    added.add("Thủ tướng Phạm Minh Chính làm việc với Hà Nội", None)
    layered = LayeredLexicon(lexicon, added.build(threshold=1))
    assert texts(layered, "thu tuong p")[0] == "Thủ tướng Phạm Minh Chính"
    assert "Thủ tướng Phạm" not in texts(layered, "thu tuong p")
