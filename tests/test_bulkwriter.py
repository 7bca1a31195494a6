"""The bulk segment writer writes what Whoosh's own IndexWriter writes (issue 9)."""

from __future__ import annotations

import itertools
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.formats import Positions
from whoosh.qparser import QueryParser
from whoosh.util.numeric import length_to_byte

from searchsvc import codec, segmentwriter
from searchsvc.bulkwriter import SegmentBuilder
from searchsvc.generations import current_generation
from searchsvc.indexer import reindex
from searchsvc.ingest import IngestReport, iter_sources
from searchsvc.readmodel import WhooshSource, model_path, open_model, write_model
from searchsvc.schema import build_schema, to_document
from searchsvc.search import SearchRequest, search
from searchsvc.store import open_store

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "searchsvc" / "demo" / "articles.jsonl"
SAMPLE = REPO.parent / "shared" / "corpus" / "sample.jsonl"


def _documents(source: Path, limit: int) -> list[dict]:
    articles = IngestReport().collect(iter_sources([source]))
    return [to_document(a) for a in itertools.islice(articles, limit)]


def _whoosh_index(path: Path, documents: list[dict]):
    path.mkdir()
    ix = whoosh_index.create_in(str(path), build_schema())
    writer = ix.writer()
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    return whoosh_index.open_dir(str(path))


def _bulk_index(path: Path, documents: list[dict]):
    path.mkdir()
    schema = whoosh_index.create_in(str(path), build_schema()).schema
    storage = codec.open_storage(str(path), mmap=True)
    builder = SegmentBuilder(storage, schema)
    for document in documents:
        builder.add(document)
    segmentwriter.write_toc(storage, schema, [builder.finish()], 1)
    return whoosh_index.open_dir(str(path))


def _postings(reader, field: str, term: bytes) -> list[tuple]:
    fmt = reader.schema[field].format
    matcher = reader.postings(field, term)
    out = []
    while matcher.is_active():
        value = fmt.decode_positions(matcher.value()) if fmt.supports("positions") else matcher.value()
        out.append((matcher.id(), matcher.weight(), value))
        matcher.next()
    return out


def _term_stats(reader, field: str, term: bytes) -> tuple:
    info = reader.term_info(field, term)
    return (
        info.weight(),
        info.doc_frequency(),
        info.min_length(),
        info.max_length(),
        info.max_weight(),
        info.min_id(),
        info.max_id(),
    )


def _assert_same_index(expected, actual) -> int:
    """Compare two indexes through Whoosh's public reader; return the number of terms compared."""
    a, b = expected.reader(), actual.reader()
    assert a.doc_count_all() == b.doc_count_all()
    terms = list(a.all_terms())
    assert list(b.all_terms()) == terms
    for field, term in terms:
        assert _postings(b, field, term) == _postings(a, field, term), (field, term)
        assert _term_stats(b, field, term) == _term_stats(a, field, term), (field, term)
    for docnum in range(a.doc_count_all()):
        assert b.stored_fields(docnum) == a.stored_fields(docnum)
        for field in ("title", "summary", "body", "author", "title_x", "summary_x"):
            assert b.doc_field_length(docnum, field) == a.doc_field_length(docnum, field)
    for field in ("title", "summary", "body", "author"):
        assert b.field_length(field) == a.field_length(field)
        assert b.max_field_length(field) == a.max_field_length(field)
    for column in ("category", "source", "month", "published_ts", "day"):
        assert list(b.column_reader(column)) == list(a.column_reader(column))
    return len(terms)


def _assert_same_read_model(expected_dir: Path, ix, actual_dir: Path, segment) -> None:
    info = codec.latest_segments(codec.open_storage(str(expected_dir)))[0]
    reader = codec.open_segment(codec.open_storage(str(expected_dir)), ix.schema, info.segment)
    try:
        expected = open_model(write_model(WhooshSource(reader), model_path(expected_dir, "x"), "x"))
    finally:
        reader.close()
    actual = open_model(model_path(actual_dir, segment.segment_id()))
    assert sorted(actual.meta["arrays"]) == sorted(expected.meta["arrays"])
    for name in expected.meta["arrays"]:
        assert actual.array(name).dtype == expected.array(name).dtype, name
        assert np.array_equal(actual.array(name), expected.array(name)), name


@pytest.mark.parametrize(
    ("source", "chunk"),
    [(DEMO, segmentwriter.CHUNK_POSTINGS), (DEMO, 300), (SAMPLE, segmentwriter.CHUNK_POSTINGS)],
    ids=["demo", "demo-small-chunks", "sample"],
)
def test_a_bulk_segment_equals_one_written_by_whoosh(tmp_path, monkeypatch, source, chunk):
    if not source.is_file():
        pytest.skip(f"the shared corpus sample is not at {source}")
    monkeypatch.setattr(segmentwriter, "CHUNK_POSTINGS", chunk)  # small chunks: many encoder passes per field
    documents = _documents(source, 1000)
    expected = _whoosh_index(tmp_path / "whoosh", documents)
    actual = _bulk_index(tmp_path / "bulk", documents)
    # Enough terms for posting lists that span several 128-posting blocks.
    assert _assert_same_index(expected, actual) > (2000 if source == DEMO else 15_000)
    segment = codec.latest_segments(codec.open_storage(str(tmp_path / "bulk")))[0].segment
    _assert_same_read_model(tmp_path / "whoosh", expected, tmp_path / "bulk", segment)
    with expected.searcher() as a, actual.searcher() as b:
        parser = QueryParser("body", expected.schema)
        for text in (
            '"ha noi"',
            "bao",
            'title:"thu tuong"',
            "category_key:the thao",
            "body:nguoi AND title:viet",
        ):
            query = parser.parse(text)
            assert [h.docnum for h in b.search(query, limit=None)] == [
                h.docnum for h in a.search(query, limit=None)
            ], text


@pytest.mark.parametrize("value", [0, 1, 255, 256, 65535, 65536, 2**31 - 1])
def test_ints_are_pickled_as_pickle_reads_them(value):
    values = np.array([value, 7, value], dtype=np.int64)
    data, offsets = segmentwriter.encode_ints(values)
    assert pickle.loads(b"\x80\x02(" + data.tobytes() + b"t.") == (value, 7, value)
    assert offsets[-1] == data.size


def test_positions_are_encoded_as_whoosh_decodes_them():
    fmt = Positions()
    lists = [[0], [3, 4, 300], list(range(0, 70_000, 999)), [5] * 1]
    counts = np.array([len(p) for p in lists])
    deltas = np.concatenate([np.diff(np.array(p), prepend=0) for p in lists])
    data, offsets = segmentwriter.position_values(counts, deltas)
    for i, positions in enumerate(lists):
        assert fmt.decode_positions(data[offsets[i] : offsets[i + 1]].tobytes()) == positions


def test_length_bytes_equal_whooshs():
    lengths = np.arange(0, 120_000, 7)
    assert segmentwriter.length_bytes(lengths).tolist() == [length_to_byte(int(n)) for n in lengths]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _record(article_id: str, title: str, body: str = "Nội dung bài viết về thời tiết.") -> dict:
    return {"id": article_id, "title": title, "body": body, "published": "2024-05-01T08:00:00+07:00"}


@pytest.mark.parametrize("procs", [1, 2])
def test_the_later_record_of_a_duplicate_wins_across_batches(tmp_path, procs):
    filler = [_record(f"f-{i}", f"Tin số {i}", "Văn bản " * 2000) for i in range(40)]
    records = [_record("dup", "Bão số ba đổ bộ"), *filler, _record("dup", "Lũ quét ở miền núi")]
    index_dir = tmp_path / "index"
    # A tiny memory budget: a few articles per batch, so the two records land in different segments.
    report = reindex([str(_write(tmp_path / "a.jsonl", records))], index_dir, procs=procs, limitmb=1)
    storage = codec.open_storage(str(current_generation(index_dir).path))
    segments = codec.latest_segments(storage)
    assert len(segments) > 2
    assert (report.indexed, report.duplicates, report.duplicate_ids) == (41, 1, ["dup"])
    assert sum(len(s.deleted) for s in segments) == 1
    with open_store(index_dir) as store:
        assert store.doc_count == 41
        assert search(store, SearchRequest(q="do bo")).total == 0  # only the earlier record said "đổ bộ"
        hits = search(store, SearchRequest(q="lu quet")).hits
        assert [h.id for h in hits] == ["dup"]


def test_several_processes_and_batches_find_what_one_finds(tmp_path):
    records = [
        _record(f"a-{i}", f"Giá vàng hôm nay {i}", f"Giá vàng trong nước tăng {i} đồng. " * (50 + i))
        for i in range(60)
    ]
    source = str(_write(tmp_path / "a.jsonl", records))
    reindex([source], tmp_path / "one")
    reindex([source], tmp_path / "two", procs=2, limitmb=1)
    with open_store(tmp_path / "one") as one, open_store(tmp_path / "two") as two:
        for q in ("gia vang", '"vàng trong nước"', "hom nay 17"):
            a, b = search(one, SearchRequest(q=q)), search(two, SearchRequest(q=q))
            assert (b.total, [h.id for h in b.hits]) == (a.total, [h.id for h in a.hits]), q
        assert two.stats()["segments"] > 1
