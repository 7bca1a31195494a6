"""The read model: equal to Whoosh's postings, checked before it is mapped, rebuilt when damaged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.query import Phrase

from searchsvc import codec
from searchsvc.generations import current_generation
from searchsvc.indexer import add_articles, delete_articles, reindex
from searchsvc.lexicon import load_lexicon
from searchsvc.readmodel import (
    LEXICON_MODEL,
    POSITION_FIELDS,
    TERM_FIELDS,
    DamagedReadModel,
    iter_models,
    model_path,
    open_lexicon,
    open_model,
)
from searchsvc.search import SearchRequest, search
from searchsvc.store import open_store

WORDS = ["thủ", "tướng", "chính", "phủ", "họp", "bàn", "về", "bão", "lũ", "miền", "Trung", "người", "dân"]
WORDS += ["Hà", "Nội", "đường", "phố"]


def _write_articles(path: Path, count: int, prefix: str = "a") -> Path:
    """Write ``count`` small generated Vietnamese articles as JSONL (frequent words span many blocks)."""
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(count):
            words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(12 + i % 9)]
            article = {
                "id": f"{prefix}{i}",
                "title": f"Tin số {i}: " + " ".join(words[:5]),
                "summary": " ".join(words[2:9]) if i % 3 else None,
                "body": " ".join(words)
                + f". Bão số {i % 13} đổ bộ, người dân Hà Nội theo dõi. " * (1 + i % 4),
                "author": ["Minh Anh", "Lê Văn Đức", None][i % 3],
                "category": ["Thời sự", "Thế giới", "Kinh doanh"][i % 3],
                "source": ["tuoitre", "vnexpress"][i % 2],
                "published": f"20{10 + i % 15}-0{1 + i % 9}-1{i % 10}T08:00:00+07:00" if i % 5 else None,
                "tags": ["bão", "Hà Nội"][: i % 3],
            }
            handle.write(json.dumps(article, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def many_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of 600 generated articles: frequent words' postings span several W3 blocks."""
    root = tmp_path_factory.mktemp("many")
    index_dir = root / "index"
    reindex([str(_write_articles(root / "many.jsonl", 600))], index_dir)
    return index_dir


def _whoosh_postings(reader, field: str, term: bytes, positions: bool):
    """Read a term's postings through Whoosh's public matcher API."""
    matcher = reader.postings(field, term)
    ids, weights, where = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        if positions:
            where.append(list(matcher.value_as("positions")))
        matcher.next()
    return ids, weights, where


def _check_equal_to_whoosh(index_dir: Path) -> int:
    """Compare every term of every read-model field with Whoosh's own postings; return postings compared."""
    path = current_generation(index_dir).path
    ix = whoosh_index.open_dir(str(path))
    compared = 0
    with ix.reader() as top:
        for leaf, _ in top.leaf_readers():
            segment_id = leaf.segment().segment_id()
            model = open_model(model_path(path, segment_id))
            assert model.doc_count == leaf.doc_count_all()
            for field in POSITION_FIELDS + TERM_FIELDS:
                fm = model.fields[field]
                whoosh_terms = list(leaf.lexicon(field)) if field in leaf.schema else []
                assert [fm.term(i) for i in range(fm.count)] == whoosh_terms
                for i, term in enumerate(whoosh_terms):
                    ids, weights, where = _whoosh_postings(leaf, field, term, field in POSITION_FIELDS)
                    post = fm.postings(i)
                    assert post.docs.tolist() == ids
                    assert post.weights.tolist() == weights
                    if where:
                        owner, got = model.term_positions(field, post, np.arange(len(ids)))
                        assert [got[owner == j].tolist() for j in range(len(ids))] == where
                    compared += len(ids)
            for field in ("title", "body"):
                expected = [leaf.doc_field_length(d, field, 0) for d in range(leaf.doc_count_all())]
                assert model.lengths[field].tolist() == expected
    return compared


def test_read_model_equals_whoosh_on_the_demo_index(demo_index_dir: Path):
    assert _check_equal_to_whoosh(demo_index_dir) > 1000


def test_read_model_equals_whoosh_across_posting_blocks(many_index: Path):
    path = current_generation(many_index).path
    ix = whoosh_index.open_dir(str(path))
    with ix.reader() as reader:
        # The W3 codec writes 128 postings per block: the frequent words span several.
        assert reader.doc_frequency("body", "bao") > 3 * 128
    assert _check_equal_to_whoosh(many_index) > 10_000


def test_read_model_equals_whoosh_on_the_corpus_sample(shared_corpus: Path, tmp_path: Path):
    index_dir = tmp_path / "index"
    reindex([str(shared_corpus / "sample.jsonl")], index_dir)
    assert _check_equal_to_whoosh(index_dir) > 100_000


def test_the_generation_stays_a_whoosh_index_whoosh_can_query(many_index: Path):
    ix = whoosh_index.open_dir(str(current_generation(many_index).path))
    with ix.searcher() as searcher:
        hits = searcher.search(Phrase("body", ["ha", "noi"]), limit=None)
        assert len(hits) == 600
        assert searcher.document(id="a7")["id"] == "a7"


def _copy(index_dir: Path, tmp_path: Path) -> Path:
    """Return a private copy of an index directory."""
    target = tmp_path / "copy"
    shutil.copytree(index_dir, target)
    return target


def _ids(store, q: str, **extra) -> list[str]:
    """Return the ids of every hit of a query, in order."""
    response = search(store, SearchRequest(q=q, per_page=100, **extra))
    return [hit.id for hit in response.hits]


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "empty"])
def test_damaged_read_model_is_detected_and_rebuilt(many_index: Path, tmp_path: Path, damage: str):
    index_dir = _copy(many_index, tmp_path)
    with open_store(index_dir) as healthy:
        expected = _ids(healthy, '"bão số" hà nội')
    (model,) = iter_models(current_generation(index_dir).path)
    data = model.read_bytes()
    if damage == "truncate":
        model.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        model.write_bytes(data[:5000] + bytes([data[5000] ^ 0xFF]) + data[5001:])
    elif damage == "delete":
        model.unlink()
    else:
        model.write_bytes(b"")
    if damage != "delete":
        with pytest.raises(DamagedReadModel):
            open_model(model)
    with open_store(index_dir) as store:
        assert _ids(store, '"bão số" hà nội') == expected
    # Rebuilt on disk from the Whoosh segment: it opens and checks again.
    assert open_model(model).doc_count == 600


def test_truncated_read_model_never_maps_past_its_end(many_index: Path, tmp_path: Path):
    index_dir = _copy(many_index, tmp_path)
    (model,) = iter_models(current_generation(index_dir).path)
    data = model.read_bytes()
    for cut in (0, 7, 100, len(data) - 41, len(data) - 1):
        model.write_bytes(data[:cut])
        with pytest.raises(DamagedReadModel):
            open_model(model, verify=False)


def test_incremental_add_writes_a_small_segment_and_keeps_the_big_one_mapped(
    many_index: Path, tmp_path: Path
):
    index_dir = _copy(many_index, tmp_path)
    store = open_store(index_dir, refresh_interval=0)
    try:
        (big,) = store.state.parts
        fresh = tmp_path / "fresh.jsonl"
        fresh.write_text(
            json.dumps(
                {"id": "moi1", "title": "Đà Nẵng khai trương cầu Rồng mới", "body": "Cầu Rồng ở Đà Nẵng."}
            )
            + "\n"
            + json.dumps({"id": "a3", "title": "Bài a3 được sửa: Huế mưa lớn", "body": "Mưa lớn ở Huế."})
            + "\n",
            encoding="utf-8",
        )
        add_articles([fresh], index_dir)
        generation = current_generation(index_dir).path
        assert len(list(iter_models(generation))) == 2
        store.refresh()
        parts = store.state.parts
        assert len(parts) == 2
        assert parts[0].model is big.model  # the archive segment is not reopened
        assert _ids(store, "cau rong da nang") == ["moi1"]
        assert _ids(store, "hue mua lon") == ["a3"]
        assert store.get_article("a3")["title"].startswith("Bài a3 được sửa")
        assert store.doc_count == 601
        delete_articles(["moi1", "a5"], index_dir)
        store.refresh()
        assert _ids(store, "cau rong da nang") == []
        assert store.doc_count == 599
        assert "a5" not in _ids(store, "tin so 5", sort="newest")
    finally:
        store.close()


def test_store_answers_like_a_fresh_store_after_adds(many_index: Path, tmp_path: Path):
    index_dir = _copy(many_index, tmp_path)
    store = open_store(index_dir, refresh_interval=0)
    try:
        for batch in range(3):
            source = _write_articles(tmp_path / f"b{batch}.jsonl", 20, prefix=f"b{batch}-")
            add_articles([source], index_dir)
            store.refresh()
        with open_store(index_dir) as fresh:
            for q in ("bão số", '"hà nội"', "thủ tướng", "ha*"):
                assert _ids(store, q) == _ids(fresh, q)
                assert search(store, SearchRequest(q=q)).facets == search(fresh, SearchRequest(q=q)).facets
    finally:
        store.close()


def test_unsupported_whoosh_is_named_when_an_internal_is_missing(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delattr(codec.whoosh3.W3LeafMatcher, "_read_data")
    with pytest.raises(codec.UnsupportedWhoosh, match="whoosh3 3.54.0"):
        codec.check_supported()


def test_mapped_lexicon_answers_like_the_pickled_one(demo_index_dir: Path):
    path = current_generation(demo_index_dir).path
    pickled, mapped = load_lexicon(path), open_lexicon(path)
    assert len(mapped.keys) == len(pickled.keys) > 100
    for prefix in ("h", "ha", "ha n", "hà nội", "thu tuong", "bao", "zz", "đ", "Đà"):
        assert mapped.complete(prefix, 8) == pickled.complete(prefix, 8)
    for folded in list(pickled.words)[:200] + ["khongcotu"]:
        assert (mapped.best_form(folded), mapped.count(folded)) == (
            pickled.best_form(folded),
            pickled.count(folded),
        )
    for key in list(pickled.pairs)[:200]:
        first, _, second = key.partition(" ")
        assert mapped.pair_count(first, second) == pickled.pair_count(first, second)
    for words in (["ha", "noi"], ["thu", "tuong", "chinh", "phu"], ["bao", "lu"]):
        assert mapped.restore_accents(words) == pickled.restore_accents(words)
    for typo in ("hanoi", "chinnh", "tuonng", "baoo"):
        assert mapped.correct(typo) == pickled.correct(typo)


def test_damaged_lexicon_map_is_written_again_from_the_pickle(demo_index_dir: Path, tmp_path: Path):
    index_dir = _copy(demo_index_dir, tmp_path)
    path = current_generation(index_dir).path
    (path / LEXICON_MODEL).write_bytes((path / LEXICON_MODEL).read_bytes()[:1000])
    assert open_lexicon(path).complete("ha", 3) == load_lexicon(path).complete("ha", 3)
    assert open_lexicon(path, verify=True).complete("ha", 3)


def test_two_processes_write_a_read_model_for_every_segment(tmp_path: Path):
    index_dir = tmp_path / "index"
    # A small memory budget per batch: the 600 articles become several segments.
    reindex([str(_write_articles(tmp_path / "many.jsonl", 600))], index_dir, procs=2, limitmb=2)
    path = current_generation(index_dir).path
    storage = codec.open_storage(str(path))
    _, segments = codec.read_segments(storage, codec.toc_generation(storage))
    assert len(segments) >= 2
    assert sorted(p.stem for p in iter_models(path)) == sorted(s.segment_id for s in segments)
    assert _check_equal_to_whoosh(index_dir) > 10_000
    with open_store(index_dir) as store:
        assert search(store, SearchRequest(q='"bão số"')).total == 600
