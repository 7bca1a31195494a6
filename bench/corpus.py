"""Load the shared corpus and eval sets, pick the quick slice, and count like the ground truth."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CORPUS_FILE = Path("corpus") / "articles.jsonl.gz"
QUERIES_FILE = Path("eval") / "queries.jsonl"
COUNTS_FILE = Path("eval") / "counts.jsonl"
TEXT_FIELDS = ("title", "summary", "body")

# Ground-truth tokenizer from shared/eval/README.md: letter runs of the NFC text.
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# đ/Đ fold to d; the eval totals also count the look-alike Ð (U+00D0, eth) as D.
_D_LETTERS = str.maketrans({"đ": "d", "ð": "d"})
# The five tone marks (combining), and the vowel pairs whose tone placement has two styles.
_TONES = "\u0300\u0301\u0309\u0303\u0323"
_PAIRS = re.compile(r"(?<!q)(oa|oe|uy)")


@dataclass
class Workload:
    """The articles and checks of one benchmark run."""

    mode: str
    articles: list[dict]
    queries: list[dict]
    counts: list[dict]
    # Where the count expectations come from: the eval file (full) or the slice (quick).
    counts_source: str
    notes: list[str] = field(default_factory=list)


def default_shared_dir() -> Path:
    """Return <repo root>/../shared."""
    return Path(__file__).resolve().parents[1].parent / "shared"


def read_jsonl(path: Path) -> list[dict]:
    """Read a JSONL file into a list of dicts, skipping blank lines."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def iter_corpus_lines(shared: Path) -> Iterator[str]:
    """Yield the raw JSON lines of the gzip corpus."""
    with gzip.open(shared / CORPUS_FILE, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line


def record_id(line: str) -> str:
    """Return the id of a raw corpus line without parsing the whole record."""
    # Every record starts with its "id" field (corpus README); fall back to JSON otherwise.
    prefix = '{"id": "'
    if line.startswith(prefix):
        end = line.find('"', len(prefix))
        if end > 0 and "\\" not in line[len(prefix) : end]:
            return line[len(prefix) : end]
    return json.loads(line)["id"]


def sample_key(article_id: str) -> str:
    """Return the deterministic sampling key of an id (its SHA-1)."""
    return hashlib.sha1(article_id.encode("utf-8")).hexdigest()


def load_full(shared: Path) -> Workload:
    """Load every article, every known-item query and every count check."""
    articles = [json.loads(line) for line in iter_corpus_lines(shared)]
    return Workload(
        mode="full",
        articles=articles,
        queries=read_jsonl(shared / QUERIES_FILE),
        counts=read_jsonl(shared / COUNTS_FILE),
        counts_source="shared/eval/counts.jsonl (full corpus)",
    )


def load_quick(shared: Path, limit: int, max_targets: int | None = None) -> Workload:
    """Load a slice of `limit` articles holding the targets of the queries kept."""
    queries = read_jsonl(shared / QUERIES_FILE)
    max_targets = max(1, limit // 5) if max_targets is None else max_targets
    targets = sorted({i for q in queries for i in q["relevant"]}, key=sample_key)
    kept_targets = set(targets[: min(max_targets, limit)])
    ids = [record_id(line) for line in iter_corpus_lines(shared)]
    fillers = sorted((i for i in ids if i not in kept_targets), key=sample_key)
    chosen = kept_targets | set(fillers[: max(0, limit - len(kept_targets))])
    articles = [json.loads(line) for line in iter_corpus_lines(shared) if record_id(line) in chosen]
    present = {a["id"] for a in articles}
    kept = [q for q in queries if q["relevant"] and set(q["relevant"]) <= present]
    counts = recount(read_jsonl(shared / COUNTS_FILE), articles)
    return Workload(
        mode="quick",
        articles=articles,
        queries=kept,
        counts=counts,
        counts_source="recomputed on the slice with the ground-truth tokenizer",
        notes=[
            (
                f"quick slice: {len(articles)} articles in corpus order = {len(kept_targets)} "
                f"query targets + the others with the lowest SHA-1 of their id; "
                f"{len(kept)} of {len(queries)} known-item queries kept"
            )
        ],
    )


@functools.lru_cache(maxsize=1 << 18)
def fold(token: str) -> str:
    """Fold a token like the ground truth: drop combining marks, lower-case, đ -> d."""
    decomposed = unicodedata.normalize("NFD", token)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.lower().translate(_D_LETTERS)


@functools.lru_cache(maxsize=1 << 18)
def exact(token: str) -> str:
    """Return a token's exact form: NFC, lower case, marks kept, old/new tone placement made one.

    Where the vowels hold ``oa``, ``oe`` or ``uy`` (not after ``q``), the tone is
    written after the letters (``hoà`` and ``hòa`` both give ``hoa\u0300``); the
    eval's rule, written independently of searchsvc's canonical placement.
    """
    lowered = unicodedata.normalize("NFC", token).lower().replace("ð", "đ")
    decomposed = unicodedata.normalize("NFD", lowered)
    tones = [c for c in decomposed if c in _TONES]
    if not tones:
        return lowered
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    if not _PAIRS.search(bare):
        return lowered
    return bare + "".join(tones)


def ground_tokens(text: str | None) -> list[str]:
    """Tokenize text like the ground truth: folded letter runs of the NFC text."""
    if not text:
        return []
    return [fold(t) for t in _LETTER_RUN.findall(unicodedata.normalize("NFC", text))]


def article_tokens(text: str | None) -> tuple[list[str], list[str]]:
    """Return a field's ground-truth tokens in both forms: (folded, exact)."""
    if not text:
        return [], []
    runs = _LETTER_RUN.findall(unicodedata.normalize("NFC", text))
    return [fold(t) for t in runs], [exact(t) for t in runs]


def query_terms(q: str) -> tuple[list[tuple[str, bool]], bool]:
    """Return a count query's terms as (form, marked) and whether it is a quoted phrase.

    A term typed with marks is matched in its exact form, one without in its folded form.
    """
    runs = _LETTER_RUN.findall(unicodedata.normalize("NFC", q))
    terms = [(exact(t), True) if fold(t) != t.lower() else (fold(t), False) for t in runs]
    return terms, q.strip().startswith('"')


def _token_matches(folded: str, exact_form: str, term: tuple[str, bool]) -> bool:
    """Tell whether one article token matches one query term under the accent rule."""
    form, marked = term
    return (exact_form if marked else folded) == form


def matches(
    article_fields: list[tuple[list[str], list[str]]], terms: list[tuple[str, bool]], phrase: bool
) -> bool:
    """Tell whether an article's tokenized fields (folded, exact) match the terms (phrase: in one field)."""
    if not terms:
        return False
    if not phrase:
        vocabulary = {(f, False) for folded, _ in article_fields for f in folded}
        vocabulary |= {(e, True) for _, exact_forms in article_fields for e in exact_forms}
        return all(t in vocabulary for t in terms)
    n = len(terms)
    first = terms[0]
    for folded, exact_forms in article_fields:
        candidates = exact_forms if first[1] else folded
        for i in range(len(folded) - n + 1):
            if candidates[i] == first[0] and all(
                _token_matches(folded[i + k], exact_forms[i + k], terms[k]) for k in range(1, n)
            ):
                return True
    return False


def in_filter(article: dict, params: dict) -> bool:
    """Tell whether an article passes the category and inclusive local-date filters."""
    if params.get("category") and article["category"] != params["category"]:
        return False
    lo, hi = params.get("date_from"), params.get("date_to")
    if lo or hi:
        day = (article.get("published") or "")[:10]
        if not day or (lo and day < lo) or (hi and day > hi):
            return False
    return True


def recount(checks: list[dict], articles: list[dict]) -> list[dict]:
    """Recompute each check's expected total (and category facets) over the articles."""
    tokenized = [[article_tokens(a.get(name)) for name in TEXT_FIELDS] for a in articles]
    out = []
    for check in checks:
        terms, phrase = query_terms(check["q"])
        params = check.get("params") or {}
        hits = [
            a
            for a, fields in zip(articles, tokenized, strict=True)
            if in_filter(a, params) and matches(fields, terms, phrase)
        ]
        expected = dict(check, expect_total=len(hits))
        if "expect_facets" in check:
            expected["expect_facets"] = {"category": dict(Counter(a["category"] for a in hits))}
        out.append(expected)
    return out
