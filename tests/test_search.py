"""The core search call on the demo index: matching, readings, syntax, filters, facets, order, highlights."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from searchsvc.config import SearchSettings
from searchsvc.errors import QueryError
from searchsvc.indexer import reindex
from searchsvc.messages import AliasUse, Correction, FacetValue, Reading, SearchRequest, SearchResponse
from searchsvc.search import request_from_params, search
from searchsvc.store import open_store

ALL = 49  # 48 demo articles and the saved page
UNDATED = {"demo-029", "demo-036", "demo-040"}


def run(store, q: str = "", **fields) -> SearchResponse:
    """Search the demo index."""
    return search(store, SearchRequest(q=q, **({"per_page": 100} | fields)))


def ids(store, q: str = "", **fields) -> list[str]:
    """Return the ids of every hit, in result order."""
    return [hit.id for hit in run(store, q, **fields).hits]


def facet(response: SearchResponse, name: str) -> dict[str, int]:
    """Return one facet as value -> count."""
    return {v.value: v.count for v in response.facets[name]}


# ---------------------------------------------------------------------------
# matching


def test_words_are_anded(store):
    # Matching ignores accents (bão also matches báo, bảo); the bão articles rank first.
    found = ids(store, "hà nội bão")
    assert set(found) == set(ids(store, "hà nội")) & set(ids(store, "bão"))
    assert set(found[:2]) == {"demo-001", "demo-003"}
    assert ids(store, "marathon đà nẵng") == ["demo-026"]


def test_partial_fallback_when_no_article_has_every_word(store):
    response = run(store, "hà nội bão marathon")
    assert (response.partial, response.total > 0) == (True, True)
    assert run(store, "hà nội bão").partial is False


@pytest.mark.parametrize("q", ["thu tuong", "Thủ tướng", "THỦ TƯỚNG", "thủ tướng"])
def test_unaccented_and_any_case_find_thu_tuong(store, q):
    assert ids(store, q)[:3] == ["demo-011", "demo-045", "demo-012"]


def test_accented_word_finds_only_its_own_accents(store):
    found = ids(store, "mới")
    assert set(found[:3]) == {"demo-008", "demo-010", "demo-032"}  # mới in the title
    assert "demo-043" not in found  # only mời, mỗi
    assert "demo-043" in ids(store, "moi")  # typed without marks: every form


@pytest.mark.parametrize("q", ["Đà Nẵng", unicodedata.normalize("NFD", "Đà Nẵng"), "ĐÀ NẴNG", "\u00d0à Nẵng"])
def test_nfc_nfd_case_and_eth_queries_agree(store, q):
    assert ids(store, q) == ids(store, "Đà Nẵng")
    assert set(ids(store, q)) <= set(ids(store, "da nang"))


@pytest.mark.parametrize("q", ["hoà bình", "hòa bình", "HOÀ BÌNH", unicodedata.normalize("NFD", "hoà bình")])
def test_old_and_new_tone_style_find_each_other(store, q):
    # demo-019 writes hòa bình, demo-031 writes hoà bình.
    assert {"demo-019", "demo-031"} <= set(ids(store, q))
    assert ids(store, q) == ids(store, "hòa bình")


def test_accented_query_ranks_its_own_accents_first(store):
    found = ids(store, "bán nhà")
    assert found[0] == "demo-004"
    assert all(
        found.index("demo-004") < found.index(other)
        for other in ("demo-005", "demo-006", "demo-007")
        if other in found
    )


@pytest.mark.parametrize(
    ("q", "reading", "first"),
    [
        ("thur tuwowngs", Reading("telex", "thủ tướng"), "demo-011"),
        ("vieejt nam", Reading("telex", "việt nam"), "demo-014"),
        ("ddaf nawngx", Reading("telex", "đà nẵng"), "demo-002"),
    ],
)
def test_telex_reading(store, q, reading, first):
    response = run(store, q)
    assert (response.reading, response.hits[0].id, response.partial) == (reading, first, False)


def test_vni_reading(store):
    response = run(store, "vie65t nam")
    assert (response.reading, response.partial) == (Reading("vni", "việt nam"), False)
    assert ids(store, "vie65t nam") == ids(store, "việt nam")


def test_literal_reading_of_plain_words(store):
    assert run(store, "ha noi").reading == Reading("literal", "ha noi")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("COVID-19", ["demo-012", "demo-013", "demo-030"]),
        ("covid 19", ["demo-012", "demo-013", "demo-030"]),
        ("5G", ["demo-010"]),
        ("u23", ["demo-014"]),
        ("2.000", ["demo-004"]),
        ("2000", ["demo-004"]),
        ("12/7", ["demo-002"]),
        ("hotro5g@nhamang.example", ["demo-010"]),
    ],
)
def test_mixed_tokens(store, q, expected):
    assert sorted(ids(store, q)) == expected


# ---------------------------------------------------------------------------
# syntax


def test_phrase_is_exact(store):
    assert sorted(ids(store, '"thông tin đối ngoại"')) == ["demo-002", "demo-018"]
    assert run(store, '"đối ngoại thông tin"').total == 0
    assert run(store, '"thu tuong"').total == 3  # demo-034 has thu and tuong, apart


def test_negation_excludes(store):
    with_bao = set(ids(store, "hà nội"))
    assert set(ids(store, "hà nội -bão")) == with_bao - set(ids(store, "bão"))
    assert {"demo-001", "demo-003"}.isdisjoint(ids(store, "hà nội -bão"))
    assert set(ids(store, 'hà nội -"thành phố"')) <= with_bao


def test_or(store):
    assert set(ids(store, "bão OR marathon")) == set(ids(store, "bão")) | set(ids(store, "marathon"))


def test_title_prefix(store):
    assert sorted(ids(store, "title:covid")) == ["demo-013", "demo-030"]
    assert sorted(ids(store, 'title:"thủ tướng"')) == ["demo-011", "demo-012", "demo-045"]


@pytest.mark.parametrize("q", ["category:the-thao", 'category:"Thể thao"', "category:THỂ_THAO"])
def test_category_prefix(store, q):
    assert run(store, q).total == 7


def test_source_and_author_prefixes(store):
    assert run(store, "source:vnexpress").total == 12
    assert sorted(ids(store, 'source:"Dân trí" category:the-thao')) == ["demo-015", "demo-033"]
    assert set(ids(store, "author:ngọc")) <= {h for h in ids(store, "", sources=("Tuổi Trẻ",))}
    assert "demo-001" in ids(store, "author:ngoc")


def test_prefix_word(store):
    assert set(ids(store, "covi*")) == set(ids(store, "covid"))
    assert set(ids(store, "tp.hcm")) <= set(ids(store, "tp*"))


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced',
        "(hà nội",
        "hà nội)",
        "-",
        "OR",
        "OR OR",
        "- -",
        "a OR",
        '""',
        "title:",
        ":",
        "a\x00b\x07c\x1b",
    ],
)
def test_malformed_syntax_never_raises(store, q):
    response = run(store, q)
    assert (response.total >= 0, response.truncated) == (True, False)


def test_long_query_is_truncated(store):
    response = run(store, "hà nội " * 1000)
    assert (response.truncated, response.total) == (True, 10)
    assert run(store, "x" * 5000).truncated is True


# ---------------------------------------------------------------------------
# filters and facets


def test_category_and_source_filters_or_within_a_field(store):
    assert run(store, categories=("Thể thao", "kinh doanh")).total == 14
    assert run(store, sources=("VnExpress", "dan tri")).total == 23
    assert run(store, categories=("Thể thao",), sources=("VnExpress",)).total == 3


def test_author_and_tag_filters(store):
    assert ids(store, authors=("NGỌC ÁNH",)) == ids(store, authors=("ngoc anh",)) == ["demo-001"]
    assert sorted(ids(store, tags=("covid-19",))) == ["demo-013", "demo-030"]
    assert run(store, authors=("nobody",)).total == 0


def test_date_filters_are_inclusive_local_days(store):
    assert ids(store, date_from=date(2024, 9, 7), date_to=date(2024, 9, 7)) == ["demo-001"]
    assert run(store, date_from=date(2018, 1, 1), date_to=date(2018, 12, 31)).total == 5
    assert run(store, date_from=date(2026, 1, 1)).total == 3
    # Undated articles fall outside every date range.
    assert UNDATED.isdisjoint(ids(store, date_to=date(2100, 1, 1)))


def test_facets_are_disjunctive(store):
    response = run(store, categories=("Thể thao",), sources=("VnExpress",))
    assert facet(response, "category") == facet(run(store, sources=("VnExpress",)), "category")
    assert facet(response, "source") == facet(run(store, categories=("Thể thao",)), "source")
    assert sum(facet(response, "source").values()) == 7


def test_facets_count_every_match_not_just_the_page(store):
    response = run(store, "", per_page=5)
    assert facet(response, "category") == {
        "Thời sự": 10,
        "Kinh doanh": 7,
        "Sức khỏe": 7,
        "Thể thao": 7,
        "Thế giới": 5,
        "Công nghệ": 4,
        "Giáo dục": 4,
        "Văn hóa": 4,
    }
    assert facet(response, "source") == {
        "VnExpress": 12,
        "Dân trí": 11,
        "Thanh Niên": 9,
        "Người Lao Động": 8,
        "Tuổi Trẻ": 8,
    }
    # The saved page has neither category nor source, but is a match.
    assert (len(response.hits), response.total) == (5, ALL)


def test_year_facet_leaves_out_undated_articles(store):
    response = run(store, "")
    assert facet(response, "year") == {
        "2018": 5,
        "2019": 5,
        "2020": 4,
        "2021": 5,
        "2022": 6,
        "2023": 6,  # five articles and the saved page
        "2024": 7,
        "2025": 5,
        "2026": 3,
    }
    assert sum(facet(response, "month").values()) == ALL - len(UNDATED)
    assert UNDATED <= set(ids(store, ""))


def test_facet_shape(store):
    assert run(store, "marathon").facets == {
        "category": (FacetValue("Thể thao", 1),),
        "source": (FacetValue("Thanh Niên", 1),),
        "year": (FacetValue("2026", 1),),
        "month": (FacetValue("2026-02", 1),),
    }


# ---------------------------------------------------------------------------
# order and pages


def test_empty_query_lists_newest_first_with_facets(store):
    response = run(store, "")
    published = [hit.published for hit in response.hits]
    assert response.total == ALL
    assert published[: ALL - 3] == sorted(published[: ALL - 3], reverse=True)
    assert {hit.id for hit in response.hits[-3:]} == UNDATED
    assert set(response.facets) == {"category", "source", "year", "month"}


def test_sort_newest_and_oldest(store):
    newest = ids(store, "hà nội", sort="newest")
    oldest = ids(store, "hà nội", sort="oldest")
    assert (newest[0], oldest[0], sorted(newest)) == ("demo-042", "demo-008", sorted(oldest))
    assert newest == oldest[::-1]  # every Hà Nội article is dated


def test_undated_articles_come_last_in_both_orders(store):
    assert {*ids(store, "", sort="oldest")[-3:]} == UNDATED


def test_pagination(store):
    everything = ids(store, "")
    pages = [run(store, "", page=n, per_page=10) for n in range(1, 6)]
    assert [hit.id for p in pages for hit in p.hits] == everything
    assert [(p.total, p.pages, len(p.hits)) for p in pages] == [(ALL, 5, 10)] * 4 + [(ALL, 5, 9)]
    assert run(store, "", page=6, per_page=10).hits == ()


def test_relevance_pages_agree_with_one_long_page(store):
    everything = ids(store, "moi")
    paged = [h.id for n in range(1, 4) for h in run(store, "moi", page=n, per_page=10).hits]
    assert paged == everything[:30]


# ---------------------------------------------------------------------------
# highlights and suggestions


@pytest.mark.parametrize(
    "q", ["Thủ tướng", "thu tuong", unicodedata.normalize("NFD", "Thủ tướng"), "thur tuwowngs"]
)
def test_highlight_marks_the_accented_original(store, q):
    hit = run(store, q).hits[0]
    assert hit.highlights.title == "<mark>Thủ tướng</mark> yêu cầu các bộ đẩy nhanh giải ngân vốn đầu tư công"
    assert "<mark>Thủ tướng</mark>" in hit.highlights.snippet


def test_highlight_escapes_everything_else(store):
    hit = run(store, "script alert").hits[0]
    assert hit.id == "demo-016"
    snippet = hit.highlights.snippet
    assert "&lt;<mark>script</mark>&gt;<mark>alert</mark>(1)&lt;/<mark>script</mark>&gt;" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_highlight_with_an_entity_in_the_body(store):
    hit = run(store, "thông tin đối ngoại", per_page=5).hits[1]
    assert hit.id == "demo-018"
    assert "<mark>thông tin đối ngoại</mark>" in hit.highlights.snippet.lower()


def test_no_highlight_when_asked_not_to(store):
    hit = run(store, "thủ tướng", highlight=False).hits[0]
    assert "<mark>" not in hit.highlights.title + hit.highlights.snippet


@pytest.mark.parametrize(
    ("q", "text"),
    [("marathom", "marathon"), ("vaccin", "vaccine"), ("thủ tưởng", None)],
)
def test_suggestion_for_a_typo(store, q, text):
    # Without a full match as typed, the correction's results are shown (and said so).
    response = run(store, q)
    shown = response.correction or response.suggestion
    assert (shown.text if shown else None) == text


def test_a_typo_behind_a_partial_match_shows_the_corrected_results(store):
    # `dụcc` matches nothing: rather than partial matches, the results of `giáo dục` come first.
    response = run(store, "giáo dụcc")
    assert (response.partial, response.suggestion) == (False, None)
    assert response.correction == Correction("giáo dục", "giáo <em>dục</em>", "giáo dụcc")
    assert response.total == run(store, "giáo dục").total


def test_as_typed_searches_exactly_what_was_typed(store):
    response = run(store, "giáo dụcc", as_typed=True)
    assert (response.partial, response.correction) == (True, None)
    assert response.suggestion is not None and response.suggestion.text == "giáo dục"


def test_a_rare_word_beside_its_pair_is_corrected(store):
    response = run(store, "chinh phuu")
    assert response.correction is not None and response.correction.text == "chính phủ"
    assert response.total == run(store, "chính phủ").total


def test_aliases_find_the_long_form_and_say_so(store):
    response = run(store, "UBND")
    assert response.aliases == (AliasUse("UBND", ("Ủy ban Nhân dân",)),)
    assert response.total == run(store, '"Ủy ban nhân dân"').total > 0
    assert "<mark>Uỷ ban nhân dân</mark>" in " ".join(h.highlights.snippet for h in response.hits)


@pytest.mark.parametrize(("q", "total"), [('"UBND"', 0), ("-UBND", ALL)])
def test_quoted_and_negated_words_are_never_expanded(store, q, total):
    response = run(store, q)
    assert (response.aliases, response.total) == ((), total)


def test_aliases_are_offered_not_counted_when_the_words_as_typed_match(tmp_path):
    # Totals count what was typed: an abbreviation that articles write is searched as typed,
    # and its long form is offered (aliases=1 searches it too); UBND above, written nowhere
    # in the demo, is widened at once.
    source = tmp_path / "a.jsonl"
    records = [
        {"id": "a", "title": "Thị trường BĐS cuối năm", "body": "Giá BĐS tăng."},
        {"id": "b", "title": "Bất động sản phía Nam", "body": "Thị trường bất động sản sôi động."},
    ]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    reindex([source], tmp_path / "index")
    with open_store(tmp_path / "index") as store:
        typed = run(store, "bđs")
        assert ([h.id for h in typed.hits], typed.aliases) == (["a"], ())
        assert typed.alias_offers == (AliasUse("bđs", ("bất động sản",)),)
        both = run(store, "bđs", aliases=True)
        assert (sorted(h.id for h in both.hits), both.alias_offers) == (["a", "b"], ())
        assert [h.id for h in run(store, "bđs", aliases=False).hits] == ["a"]


def test_aliases_can_be_turned_off(store):
    response = run(store, "UBND", aliases=False)
    assert (response.aliases, response.total) == ((), 0)


# ---------------------------------------------------------------------------
# request parameters

LIMITS = SearchSettings()


def test_request_from_params():
    request = request_from_params(
        {
            "q": ["hà nội"],
            "page": ["2"],
            "per_page": ["20"],
            "sort": ["newest"],
            "category": ["Thể thao", ""],
            "source": ["VnExpress"],
            "author": ["NGỌC ÁNH"],
            "tag": ["bão"],
            "date_from": ["2024-01-01"],
            "date_to": ["2024-12-31"],
        },
        LIMITS,
    )
    assert request == SearchRequest(
        q="hà nội",
        page=2,
        per_page=20,
        sort="newest",
        categories=("Thể thao",),
        sources=("VnExpress",),
        authors=("NGỌC ÁNH",),
        tags=("bão",),
        date_from=date(2024, 1, 1),
        date_to=date(2024, 12, 31),
    )
    assert request_from_params({}, LIMITS) == SearchRequest(per_page=LIMITS.per_page)


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": ["2024-13-01"]},
        {"date_to": ["24-01-01"]},
        {"date_from": ["2024-02-01"], "date_to": ["2024-01-01"]},
        {"page": ["0"]},
        {"page": ["abc"]},
        {"page": ["1001"]},
        {"per_page": ["101"]},
        {"per_page": ["0"]},
        {"sort": ["popular"]},
        {"q": ["a", "b"]},
    ],
)
def test_request_from_params_rejects(params):
    with pytest.raises(QueryError) as caught:
        request_from_params(params, LIMITS)
    assert caught.value.code == "invalid_parameter"


# ---------------------------------------------------------------------------
# a small index of our own: local-date edges and both tone styles

CORE = Path(__file__).resolve().parent / "fixtures" / "core" / "articles.jsonl"


@pytest.fixture(scope="module")
def core_store(tmp_path_factory):
    """Index the six core fixture articles."""
    index_dir = tmp_path_factory.mktemp("core-index")
    reindex([CORE], index_dir)
    opened = open_store(index_dir)
    yield opened
    opened.close()


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        (date(2024, 2, 1), None, ["core-02", "core-06"]),
        (date(2024, 1, 31), date(2024, 1, 31), ["core-01"]),
        (None, date(2023, 12, 31), ["core-04", "core-05"]),
        (date(2024, 1, 1), date(2024, 1, 30), []),
    ],
)
def test_date_edges_use_the_vietnam_local_day(core_store, date_from, date_to, expected):
    assert sorted(ids(core_store, date_from=date_from, date_to=date_to)) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("hoà bình", ["core-01"]),
        ("hòa bình", ["core-01"]),
        ("hoà giải", ["core-05"]),
        ("HÒA GIẢI", ["core-05"]),
        (unicodedata.normalize("NFD", "hoà giải"), ["core-05"]),
    ],
)
def test_tone_styles_in_a_small_index(core_store, q, expected):
    assert ids(core_store, q) == expected


def test_undated_article_is_listed_but_in_no_period(core_store):
    response = run(core_store, "")
    assert (response.hits[-1].id, response.total) == ("core-03", 6)
    assert facet(response, "year") == {"2022": 1, "2023": 1, "2024": 3}
    assert facet(response, "month") == {"2022-06": 1, "2023-12": 1, "2024-01": 1, "2024-02": 2}


def test_author_filter_and_prefix_in_a_small_index(core_store):
    assert sorted(ids(core_store, authors=("minh khoa",))) == ["core-01", "core-05"]
    assert ids(core_store, "author:thu") == ["core-03"]
    assert sorted(ids(core_store, tags=("Đất đai",))) == ["core-05"]


def test_many_prefixes_share_one_expansion_budget():
    from searchsvc.matching import MAX_PREFIX_TERMS, MIN_PREFIX_TERMS, PREFIX_BUDGET, prefix_limit
    from searchsvc.query import parse_query

    assert prefix_limit(parse_query("hà*", 500, 32)) == MAX_PREFIX_TERMS
    assert prefix_limit(parse_query("a* b*", 500, 32)) == min(MAX_PREFIX_TERMS, PREFIX_BUDGET // 2)
    many = " ".join(f"{c}*" for c in "abcdeghiklmnopqrstuvxy")
    assert prefix_limit(parse_query(many, 500, 32)) == max(MIN_PREFIX_TERMS, PREFIX_BUDGET // 22)
