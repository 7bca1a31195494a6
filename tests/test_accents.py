"""Accent-aware matching and on-topic date sorts on the demo index (core, API, page, CLI)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from bench.corpus import recount
from searchsvc.accents import EXACT, FOLDED, TONELESS, resolve
from searchsvc.messages import Loosened, SearchRequest, SearchResponse
from searchsvc.query import to_syllables
from searchsvc.search import search
from searchsvc.text import exact_terms, strip_tones, tone_forms

DEMO_ARTICLES = Path(__file__).resolve().parents[1] / "searchsvc" / "demo" / "articles.jsonl"


def run(store, q: str = "", **fields) -> SearchResponse:
    """Search the demo index, every hit on one page."""
    return search(store, SearchRequest(q=q, **({"per_page": 100} | fields)))


def ids(store, q: str = "", **fields) -> list[str]:
    """Return the ids of every hit, in result order."""
    return [hit.id for hit in run(store, q, **fields).hits]


def words_of(store, article_id: str) -> set[str]:
    """Return the exact syllables of an article's title, summary and body."""
    fields = store.stored(store.document_number(article_id))
    text = " ".join(fields.get(name) or "" for name in ("title", "summary", "body", "author"))
    return set(exact_terms(text))


# ---------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("word", "bare"),
    [("nứơc", "nươc"), ("Tiếng", "Tiêng"), ("đường", "đương"), ("hoà", "hoa"), ("bao", "bao")],
)
def test_strip_tones_keeps_the_other_marks(word, bare):
    assert strip_tones(word) == bare
    assert strip_tones(unicodedata.normalize("NFD", word)) == bare


def test_tone_forms_are_canonical_and_include_the_bare_spelling():
    forms = tone_forms("nứơc")
    assert {"nươc", "nước", "nược", "nứơc"} <= set(forms)
    assert "hòa" in tone_forms("hoa") and "hoà" not in tone_forms("hoa")  # canonical placement only


# ---------------------------------------------------------------- matching


def test_marked_word_matches_only_its_own_marks(store):
    storm = run(store, "bão")
    assert ids(store, "bão") == ["demo-003", "demo-001"]
    assert all("bão" in words_of(store, hit.id) for hit in storm.hits)
    assert (storm.total, storm.folded_total, storm.accent_extra) == (2, 21, 19)
    assert set(ids(store, "bão")) < set(ids(store, "bao"))


@pytest.mark.parametrize("q", ["BÃO", unicodedata.normalize("NFD", "bão"), "Bão", "baox"])
def test_case_nfd_and_telex_find_the_same_marked_word(store, q):
    assert ids(store, q) == ids(store, "bão")


def test_unmarked_word_matches_every_accent_form(store):
    response = run(store, "bao")
    assert (response.total, response.folded_total, response.accent_extra) == (21, 21, 0)
    found = set(ids(store, "bao"))
    for form in ("bão", "báo", "bảo"):
        assert set(ids(store, form)) <= found


def test_ignoring_accents_counts_every_form(store):
    ignored = run(store, "bão", accents="ignore")
    assert set(ids(store, "bão", accents="ignore")) == set(ids(store, "bao"))
    assert (ignored.total, ignored.folded_total, ignored.accent_extra) == (21, 21, 0)
    assert ignored.matched_terms == ("bao",)


def test_totals_and_facets_count_the_marked_word(store):
    response = run(store, "bão")
    assert sum(v.count for v in response.facets["category"]) == response.total == 2


def test_marked_phrase_matches_marked_forms(store):
    assert ids(store, '"đà nẵng"') == ids(store, '"da nang"')
    assert ids(store, '"đá nẵng"') == []
    assert set(ids(store, '"đà nang"')) == set(ids(store, '"đà nẵng"'))


def test_negated_marked_word_excludes_only_that_form(store):
    assert set(ids(store, "bao -bão")) == set(ids(store, "bao")) - set(ids(store, "bão"))


def test_marked_prefix_expands_over_exact_forms(store):
    response = run(store, "nguyễ*")
    assert response.matched_terms == ("nguyễn",)
    assert all("nguyễn" in words_of(store, hit.id) for hit in response.hits)


def test_misplaced_tone_is_read_at_any_tone(store):
    response = run(store, "nứơc")
    assert response.loosened == (Loosened("nứơc", TONELESS, ("nước",)),)
    assert ids(store, "nứơc") == ids(store, "nước")


def test_partial_marks_are_read_at_any_tone(store):
    response = run(store, "tiêng viêt")
    assert response.loosened == (
        Loosened("tiêng", TONELESS, ("tiếng",)),
        Loosened("viêt", TONELESS, ("viết", "việt")),
    )
    assert response.total == 3


def test_marked_word_without_any_tone_form_is_read_without_accents(store):
    response = run(store, "hâ")
    assert response.loosened == (Loosened("hâ", FOLDED, ("ha",)),)
    assert ids(store, "hâ") == ids(store, "ha")


def test_resolve_levels(store):
    assert resolve(store, to_syllables("Bão")[0]).level == EXACT
    assert resolve(store, to_syllables("nứơc")[0]).level == TONELESS
    assert resolve(store, to_syllables("hâ")[0]).level == FOLDED


def test_matched_terms_list_folded_and_exact_words(store):
    assert run(store, "ha noi bão").matched_terms == ("ha", "noi", "bão")
    assert run(store, "").matched_terms == ()


def test_marked_words_keep_their_relevance_order(store):
    # Typing the marks narrows the list; it does not reorder what stays.
    marked = ids(store, "mới")
    ignored = [i for i in ids(store, "mới", accents="ignore") if i in set(marked)]
    assert marked == ignored


@pytest.mark.parametrize("q", ["bão", "bao", "BÃO", "mới", "hoà bình", "nẵng", '"đà nẵng"', '"đà nang"'])
def test_totals_agree_with_the_bench_ground_truth(store, q):
    articles = [json.loads(line) for line in DEMO_ARTICLES.read_text(encoding="utf-8").splitlines()]
    expected = recount([{"q": q, "params": {}, "expect_total": None}], articles)[0]["expect_total"]
    known = {a["id"] for a in articles}  # the demo index also holds a saved page
    assert len([i for i in ids(store, q) if i in known]) == expected


# ---------------------------------------------------------------- date sorts


def test_date_sort_keeps_words_readers_write_together(store):
    newest = run(store, "mien trung", sort="newest")
    assert [h.id for h in newest.hits] == ["demo-021", "demo-036"]
    assert newest.total == 2
    assert run(store, "mien trung").total == 5  # relevance keeps the plain AND rule
    # demo-036 has no date: last either way.
    assert [h.id for h in run(store, "mien trung", sort="oldest").hits] == ["demo-021", "demo-036"]


def test_date_sort_falls_back_to_every_match_when_nothing_stands_together(store):
    assert set(ids(store, "trung bao", sort="newest")) == set(ids(store, "trung bao"))


@pytest.mark.parametrize("q", ["mien -xyz trung", "mien OR xyz trung", "mien title:trung", "mien* trung"])
def test_date_sort_pairs_only_neighbouring_plain_words(store, q):
    assert set(ids(store, q, sort="newest")) == set(ids(store, q))


# ---------------------------------------------------------------- API, page, CLI


def test_api_reports_the_accent_fields(client):
    body = client.get("/api/search?q=n%E1%BB%A9%C6%A1c+b%C3%A3o").get_json()
    assert body["accents"] == "match"
    assert body["loosened"] == [{"word": "nứơc", "level": "toneless", "forms": ["nước"]}]
    assert body["matched_terms"] == ["nước", "bão"]
    assert body["folded_total"] >= body["total"]
    ignored = client.get("/api/search?q=b%C3%A3o&accents=ignore").get_json()
    assert (ignored["accents"], ignored["total"], ignored["folded_total"]) == ("ignore", 21, 21)


def test_api_rejects_an_unknown_accent_mode(client):
    response = client.get("/api/search?q=bao&accents=loose")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "'accents' must be one of match, ignore, got 'loose'"


def test_page_offers_the_results_with_accents_ignored(client):
    page = client.get("/?q=b%C3%A3o").get_data(as_text=True)
    assert "Thêm 19 kết quả nếu bỏ qua dấu" in page
    assert 'href="/?q=b%C3%A3o&amp;accents=ignore"' in page
    widened = client.get("/?q=b%C3%A3o&accents=ignore").get_data(as_text=True)
    assert "Tìm thấy 21 bài viết" in widened
    assert "Đang bỏ qua dấu" in widened and "Thêm 19" not in widened
    assert "nếu bỏ qua dấu" not in client.get("/?q=bao").get_data(as_text=True)


def test_page_says_which_word_was_loosened(client):
    page = client.get("/?q=n%E1%BB%A9%C6%A1c").get_data(as_text=True)
    assert "Không có bài viết nào viết đúng “<strong>nứơc</strong>”" in page


def test_page_keeps_searching_with_a_bad_accent_mode(client):
    response = client.get("/?q=b%C3%A3o&accents=loose")
    assert response.status_code == 400
    assert "chỉ nhận match hoặc ignore" in response.get_data(as_text=True)


def test_cli_ignore_accents(demo_settings):
    from click.testing import CliRunner

    from searchsvc.cli import main

    args = ["--index-dir", str(demo_settings.index_dir), "--json"]
    marked = CliRunner().invoke(main, ["search", "bão", *args])
    ignored = CliRunner().invoke(main, ["search", "bão", "--ignore-accents", *args])
    assert (json.loads(marked.output)["total"], json.loads(ignored.output)["total"]) == (2, 21)
    table = CliRunner().invoke(main, ["search", "bão", "--index-dir", str(demo_settings.index_dir)])
    assert "19 more with accents ignored (--ignore-accents)" in table.output


# ---------------------------------------------------------------- highlights


def marked_words(response: SearchResponse) -> set[str]:
    """Return every marked word of the hits' titles and snippets, lower case."""
    found: set[str] = set()
    for hit in response.hits:
        for fragment in (hit.highlights.title, hit.highlights.snippet):
            found.update(m.lower() for m in re.findall(r"<mark>(.*?)</mark>", fragment))
    return found


@pytest.mark.parametrize(
    ("q", "marked"),
    [("bão", {"bão"}), ("mới", {"mới"}), ("nứơc", {"nước"}), ("bao", {"bão", "báo", "bảo", "bào", "bao"})],
)
def test_highlights_mark_only_the_forms_that_matched(store, q, marked):
    assert marked_words(run(store, q)) <= marked
    assert marked_words(run(store, q)) & marked


def test_a_word_typed_both_ways_is_marked_in_every_form(store):
    assert {"bão", "báo"} <= marked_words(run(store, "bão OR bao"))


# ---------------------------------------------------------------- keystroke readings


def test_readings_to_try_decode_fewer_words_before_the_words_as_typed():
    from searchsvc.query import parse_query
    from searchsvc.readings import reading_candidates

    frequency = {"cuop": 900, "taxi": 300, "tai": 40_000}
    parsed = parse_query("cuwowps taxi")
    found = reading_candidates(parsed, lambda folded: frequency.get(folded, 0))
    assert [(reading.text, mode) for reading, mode in found] == [
        ("cướp tãi", "telex"),  # every word that spells a syllable, `taxi` too
        ("cướp taxi", "telex"),  # only the word the corpus never uses
        ("cuwowps taxi", "literal"),
    ]


def test_article_page_marks_only_the_marked_form(client):
    def marks(q: str) -> set[str]:
        page = client.get("/articles/demo-001", query_string={"q": q}).get_data(as_text=True)
        return {m.lower() for m in re.findall(r"<mark>(.*?)</mark>", page)}

    # demo-001 has bão and báo.
    assert marks("bão") == {"bão"}
    assert marks("báo") == {"báo"}
    assert marks("bao") == {"bão", "báo"}
