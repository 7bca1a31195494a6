"""Postings of the live state: documents and frequencies of a term, lengths, prefixes, positions.

Every function reads one ``State`` (the caller's pinned snapshot) through the
segments' mapped read models: nothing is decoded or cached per process except
BM25's length norms, kept in the state they belong to.
"""

from __future__ import annotations

import numpy as np

from searchsvc.readmodel import Postings
from searchsvc.state import Part, State


def part_postings(state: State, field: str, term: str) -> list[tuple[Part, Postings]]:
    """Return each segment's postings of a term (segments without it left out)."""
    key = term.encode("utf-8")
    found: list[tuple[Part, Postings]] = []
    for part in state.parts:
        model = part.model.fields.get(field)
        if model is None:
            continue
        index = model.find(key)
        if index is not None:
            found.append((part, model.postings(index)))
    return found


def term_postings(state: State, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (docnums, term frequencies) of a term over the whole index (views where possible)."""
    found = part_postings(state, field, term)
    if not found:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    if len(found) == 1 and found[0][0].offset == 0:
        return found[0][1].docs, found[0][1].weights
    docs = np.concatenate([p.docs + np.int32(part.offset) for part, p in found])
    return docs, np.concatenate([p.weights for _, p in found])


def doc_frequency(state: State, field: str, term: str) -> int:
    """Return the number of documents with ``term`` in ``field`` (deleted ones included, as Whoosh)."""
    return sum(p.docs.size for _, p in part_postings(state, field, term))


def length_norm(state: State, field: str, k1: float, b: float) -> np.ndarray:
    """Return BM25's per-document length normalisation ``k1 * (1 - b + b * len / avg)`` of a field."""
    key = (field, k1, b)
    found = state.norms.get(key)
    if found is None:
        found = state.norms[key] = k1 * ((1.0 - b) + b * state.lengths[field] / state.averages[field])
    return found


def expand_prefix(state: State, field: str, prefix: str, limit: int) -> list[str]:
    """Return up to ``limit`` indexed words of ``field`` starting with ``prefix``, in order."""
    key = prefix.encode("utf-8")
    words: set[bytes] = set()
    for part in state.parts:
        model = part.model.fields.get(field)
        if model is not None:
            words.update(model.prefixed(key, limit))
    return [w.decode("utf-8") for w in sorted(words)[:limit]]


def term_positions(state: State, field: str, term: str, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (index into ``docnums``, position) for every occurrence of a term in those documents.

    ``docnums`` must be sorted and unique; only their postings' positions are read.
    """
    owners: list[np.ndarray] = []
    positions: list[np.ndarray] = []
    for part, post in part_postings(state, field, term):
        if part.offset == 0 and (not docnums.size or docnums[-1] < part.end):
            inside, local = np.arange(docnums.size), docnums  # the common case: one segment
        else:
            inside = np.nonzero((docnums >= part.offset) & (docnums < part.end))[0]
            local = docnums[inside] - part.offset
        if not inside.size or not post.docs.size:
            continue
        at = np.searchsorted(post.docs, local)
        hit = at < post.docs.size
        hit[hit] = post.docs[at[hit]] == local[hit]
        if not hit.any():
            continue
        owner, where = part.model.term_positions(field, post, at[hit])
        owners.append(inside[hit][owner])
        positions.append(where)
    if not owners:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(owners), np.concatenate(positions)
