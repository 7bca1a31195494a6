"""Write Whoosh segments in bulk: a batch of documents becomes arrays, sorted once, written once.

Whoosh's own writer sends every posting through a pure-Python pool (a tuple per
posting, sorted runs on disk, a merge, then one call per posting into the block
writer). Here each text field's syllables become term numbers as documents are
added; at the end numpy sorts them by (term, document), derives frequencies and
positions, and ``segmentwriter.SegmentFiles`` writes the W3 blocks from byte slices.
The segment is an ordinary Whoosh segment (Whoosh's searcher reads it; the
tests compare it with one written by ``IndexWriter``), and its read model is
written from the same arrays in the same pass.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from searchsvc import segmentwriter
from searchsvc.readmodel import FieldData, model_path, open_model, write_model
from searchsvc.schema import SyllableText
from searchsvc.text import forms, syllables


class _Vocabulary:
    """The terms of one analysis form (exact or folded), numbered as first seen."""

    def __init__(self, form: int) -> None:
        self.form = form
        self.cache: dict[str, int] = {}  # raw syllable -> term number
        self.numbers: dict[str, int] = {}
        self.terms: list[str] = []

    def number(self, raws: list[str]) -> list[int]:
        """Return the term number of each raw syllable."""
        get = self.cache.get
        found = [get(raw, -1) for raw in raws]
        if -1 in found:
            found = [self._learn(raw) if n < 0 else n for raw, n in zip(raws, found, strict=True)]
        return found

    def _learn(self, raw: str) -> int:
        """Number a raw syllable not seen before."""
        term = forms(raw)[self.form]
        number = self.numbers.setdefault(term, len(self.terms))
        if number == len(self.terms):
            self.terms.append(term)
        self.cache[raw] = number
        return number

    def ordered(self) -> tuple[list[bytes], np.ndarray]:
        """Return the terms as UTF-8 in byte order, and each term number's rank in that order."""
        encoded = [term.encode("utf-8") for term in self.terms]
        order = sorted(range(len(encoded)), key=encoded.__getitem__)
        rank = np.empty(len(encoded), dtype=np.int32)
        rank[order] = np.arange(len(encoded), dtype=np.int32)
        return [encoded[i] for i in order], rank


@dataclass
class _Postings:
    """One field's sorted postings: Whoosh's arrays plus the read model's view of them."""

    whoosh: segmentwriter.PostingArrays
    model: FieldData


class _TokenField:
    """A syllable text field: its term numbers, document by document, in order."""

    def __init__(self, vocabulary: _Vocabulary, positions: bool) -> None:
        self.vocabulary = vocabulary
        self.positions = positions
        self.terms = array("i")
        self.docs = array("i")
        self.lengths = array("i")

    def add(self, docnum: int, raws: list[str]) -> int:
        """Add one document's text as its raw syllables; return its length in syllables."""
        numbers = self.vocabulary.number(raws)
        self.terms.extend(numbers)
        self.docs.append(docnum)
        self.lengths.append(len(numbers))
        return len(numbers)

    def doc_lengths(self, doc_count: int) -> np.ndarray:
        """Return every document's length in this field (0 where it has none)."""
        lengths = np.zeros(doc_count, dtype=np.int64)
        lengths[np.frombuffer(self.docs, dtype=np.int32)] = np.frombuffer(self.lengths, dtype=np.int32)
        return lengths

    def postings(self, doc_count: int) -> _Postings | None:
        """Sort the syllables by (term, document) and return the postings."""
        count = len(self.terms)
        if not count:
            return None
        sorted_terms, rank = self.vocabulary.ordered()
        lengths = np.frombuffer(self.lengths, dtype=np.int32)
        ranks = rank[np.frombuffer(self.terms, dtype=np.int32)]
        order = np.argsort(ranks, kind="stable")  # stable: documents and positions stay in order
        ranks = ranks[order]
        docs = np.repeat(np.frombuffer(self.docs, dtype=np.int32), lengths)[order]
        where = np.arange(count, dtype=np.int32)
        where -= np.repeat((np.cumsum(lengths) - lengths).astype(np.int32), lengths)
        where = where[order]
        del order
        first = _run_starts(ranks, docs)
        freqs = np.diff(np.append(first, count)).astype(np.int32)
        term_first = _run_starts(ranks[first])
        term_offsets = np.append(term_first, first.size).astype(np.int64)
        terms = [sorted_terms[r] for r in ranks[first][term_first].tolist()]
        del ranks
        posting_docs = docs[first]
        del docs
        weights = freqs.astype(np.float64)
        length_bytes = segmentwriter.length_bytes(self.doc_lengths(doc_count))[posting_docs]
        empty = np.zeros(0, dtype=np.uint8)
        if self.positions:
            deltas = where.copy()
            deltas[1:] -= where[:-1]
            deltas[first] = where[first]
            term_positions = np.zeros(len(terms) + 1, dtype=np.int64)
            np.cumsum(np.add.reduceat(freqs.astype(np.int64), term_first), out=term_positions[1:])
            whoosh = segmentwriter.PostingArrays(
                terms, term_offsets, posting_docs, weights, length_bytes, empty, np.zeros(1, np.int64), deltas
            )
            return _Postings(
                whoosh,
                FieldData(terms, term_offsets, posting_docs, freqs.astype(np.float32), term_positions, where),
            )
        values = freqs.astype(">u4").view(np.uint8)
        value_offsets = 4 * np.arange(freqs.size + 1, dtype=np.int64)
        return _Postings(
            segmentwriter.PostingArrays(
                terms, term_offsets, posting_docs, weights, length_bytes, values, value_offsets
            ),
            FieldData(terms, term_offsets, posting_docs, freqs.astype(np.float32), None, None),
        )


class _OtherField:
    """Any other indexed field (ids, keywords): the field's own ``index()`` gives its postings."""

    def __init__(self, fieldobj: Any) -> None:
        self.fieldobj = fieldobj
        self.numbers: dict[bytes, int] = {}
        self.terms: list[int] = []
        self.docs: list[int] = []
        self.weights: list[float] = []
        self.values: list[bytes] = []
        self.lengths: dict[int, int] = {}

    def add(self, docnum: int, value: Any) -> int:
        """Add one document's value; return its length (0 unless the field is scorable)."""
        length = 0
        scorable = self.fieldobj.scorable
        for term, freq, weight, encoded in self.fieldobj.index(value):
            self.terms.append(self.numbers.setdefault(term, len(self.numbers)))
            self.docs.append(docnum)
            self.weights.append(weight)
            self.values.append(encoded or b"")
            if scorable:
                length += freq
        if length:
            self.lengths[docnum] = length
        return length

    def postings(self, doc_count: int) -> _Postings | None:
        """Sort the postings by (term, document)."""
        if not self.terms:
            return None
        vocabulary = sorted(self.numbers, key=self.numbers.__getitem__)
        order_of_terms = sorted(range(len(vocabulary)), key=vocabulary.__getitem__)
        rank = np.empty(len(vocabulary), dtype=np.int64)
        rank[order_of_terms] = np.arange(len(vocabulary))
        ranks = rank[np.asarray(self.terms, dtype=np.int64)]
        docs = np.asarray(self.docs, dtype=np.int64)
        order = np.lexsort((docs, ranks))
        ranks, docs = ranks[order], docs[order]
        term_first = _run_starts(ranks)
        term_offsets = np.append(term_first, ranks.size).astype(np.int64)
        terms = [vocabulary[order_of_terms[r]] for r in ranks[term_first].tolist()]
        values = [self.values[i] for i in order.tolist()]
        value_offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum([len(v) for v in values], out=value_offsets[1:])
        blob = np.frombuffer(b"".join(values), dtype=np.uint8)
        weights = np.asarray(self.weights, dtype=np.float64)[order]
        lengths = np.zeros(doc_count, dtype=np.int64)
        for docnum, length in self.lengths.items():
            lengths[docnum] = length
        posting_docs = docs.astype(np.int32)
        return _Postings(
            segmentwriter.PostingArrays(
                terms,
                term_offsets,
                posting_docs,
                weights,
                segmentwriter.length_bytes(lengths)[posting_docs],
                blob,
                value_offsets,
            ),
            FieldData(terms, term_offsets, posting_docs, weights.astype(np.float32), None, None),
        )


def _run_starts(*keys: np.ndarray) -> np.ndarray:
    """Return the indexes where any of the (sorted) key arrays changes value, 0 first."""
    changed = np.zeros(keys[0].size, dtype=bool)
    changed[0] = True
    for key in keys:
        changed[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(changed)


@dataclass
class _ModelSource:
    """A bulk-written segment as the read model reads it (instead of a Whoosh reader)."""

    doc_count: int
    fields: dict[str, FieldData]
    lengths: dict[str, np.ndarray]
    columns: dict[str, dict[int, Any]]

    def field_data(self, name: str, positions: bool) -> FieldData:
        """Return a field's postings (empty when no document has the field)."""
        return self.fields.get(name) or FieldData.empty(positions)

    def field_lengths(self, name: str) -> np.ndarray:
        """Return every document's length of a field, as Whoosh reads it back."""
        lengths = self.lengths.get(name)
        if lengths is None:
            return np.zeros(self.doc_count, dtype=np.float32)
        return segmentwriter.quantized_lengths(lengths).astype(np.float32)

    def column(self, name: str, default: Any) -> list[Any]:
        """Return a column's value for every document (``default`` where it has none)."""
        values = self.columns.get(name, {})
        return [values.get(docnum, default) for docnum in range(self.doc_count)]


class SegmentBuilder:
    """One new segment: add documents (index field dicts), then ``finish`` writes it."""

    def __init__(self, storage: Any, schema: Any) -> None:
        self.storage = storage
        self.schema = schema
        self.files = segmentwriter.SegmentFiles(storage)
        self.doc_count = 0
        vocabularies: dict[int, _Vocabulary] = {}
        self.fields: dict[str, _TokenField | _OtherField] = {}
        for name in schema.names():
            fieldobj = schema[name]
            if isinstance(fieldobj, SyllableText):
                vocabulary = vocabularies.setdefault(fieldobj.form, _Vocabulary(fieldobj.form))
                self.fields[name] = _TokenField(vocabulary, fieldobj.positions)
            elif fieldobj.indexed:
                self.fields[name] = _OtherField(fieldobj)
        self.columns: dict[str, dict[int, Any]] = {}

    def add(self, document: dict[str, Any]) -> int:
        """Add one document (as ``schema.to_document`` returns it); return its number in the segment."""
        docnum = self.doc_count
        stored: list[tuple[str, Any, Any, int]] = []
        columns: list[tuple[str, Any, Any]] = []
        split: dict[str, list[str]] = {}  # a text indexed in two forms is split into syllables once
        for name in sorted(document):
            value = document[name]
            if value is None:
                continue
            fieldobj = self.schema[name]
            length = 0
            accumulator = self.fields.get(name)
            if isinstance(accumulator, _TokenField):
                raws = split.get(value)
                if raws is None:
                    raws = split[value] = syllables(value)
                length = accumulator.add(docnum, raws)
            elif accumulator is not None:
                length = accumulator.add(docnum, value)
            stored.append(
                (name, fieldobj, value if fieldobj.stored else None, length if fieldobj.scorable else 0)
            )
            if fieldobj.column_type:
                columns.append((name, fieldobj.column_type, fieldobj.to_column_value(value)))
                self.columns.setdefault(name, {})[docnum] = value
        self.files.add_document(docnum, stored, columns)
        self.doc_count += 1
        return docnum

    def finish(self) -> Any:
        """Write the postings, close the segment, write and check its read model; return the segment."""
        model_fields: dict[str, FieldData] = {}
        lengths: dict[str, np.ndarray] = {}
        for name in sorted(self.fields):
            accumulated = self.fields.pop(name)  # its arrays go once the field is written
            postings = accumulated.postings(self.doc_count)
            if postings is not None:
                self.files.write_field(name, self.schema[name], postings.whoosh)
                model_fields[name] = postings.model
            if isinstance(accumulated, _TokenField) and self.schema[name].scorable:
                lengths[name] = accumulated.doc_lengths(self.doc_count)
        segment = self.files.finish(self.doc_count)
        source = _ModelSource(self.doc_count, model_fields, lengths, self.columns)
        folder = Path(self.storage.folder)
        open_model(write_model(source, model_path(folder, self.files.segment_id()), self.files.segment_id()))
        return segment
