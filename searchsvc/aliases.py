"""Abbreviations and aliases: `UBND` finds `Ủy ban nhân dân` and back.

The list is a plain text file shipped with the package
(``searchsvc/data/aliases.txt``; a ``config/aliases.txt`` in the working
directory replaces it; the format is in the README). Each line is a group of written forms that mean the same thing; a
query word or run of words equal to one form (accents and case ignored,
syllable by syllable, so `TP.HCM`, `TP HCM` and `tp.hcm` are one form) becomes
an OR of every form of its group, each searched as a phrase. Quoted, negated,
prefixed and field words are never expanded. The expansion is a rewrite of the
parsed query (for highlights) and a widening of what its words match; the
scores stay those of the words as typed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from searchsvc.answers import MASKS
from searchsvc.errors import ConfigError
from searchsvc.indexview import IndexView
from searchsvc.matching import Evaluation, phrase_docs, slot_docs, word_slots
from searchsvc.messages import AliasUse
from searchsvc.query import Clause, ParsedQuery, Syllable, to_syllables
from searchsvc.schema import SEARCH_FIELDS

# The setting's default: a newsroom's own list there replaces the shipped one; without it, the
# list shipped inside the package is used (an installed wheel has no config/ directory).
DEFAULT_ALIASES = "config/aliases.txt"
SHIPPED_ALIASES = Path(__file__).resolve().parent / "data" / "aliases.txt"
# Longest form, in syllables, that a query is searched for.
MAX_FORM_SYLLABLES = 8

Key = tuple[str, ...]


@dataclass(frozen=True)
class AliasGroup:
    """Forms that mean the same, and the words one of which the query must hold for the group to apply."""

    forms: tuple[str, ...]
    context: tuple[Key, ...] = ()
    line: str = ""  # where it was read, for error messages


@dataclass(frozen=True)
class AliasTable:
    """Every group, and the groups each form (folded syllables) belongs to."""

    groups: tuple[AliasGroup, ...] = ()
    by_form: dict[Key, tuple[int, ...]] | None = None

    def groups_of(self, key: Key) -> tuple[int, ...]:
        """Return the indexes of the groups having the form ``key``."""
        return (self.by_form or {}).get(key, ())


def form_key(text: str) -> Key:
    """Return the folded syllables of a written form: the key queries are matched on."""
    return tuple(s.folded for s in to_syllables(text))


def parse_aliases(text: str, source: str) -> AliasTable:
    """Parse an alias list; a malformed line raises ``ConfigError`` naming file and line."""
    groups: list[AliasGroup] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{number}"
        forms_part, _, context_part = line.partition("|")
        forms = tuple(dict.fromkeys(f.strip() for f in forms_part.split("=") if f.strip()))
        if len(forms) < 2:
            raise ConfigError(
                f"{where}: an alias line needs two forms or more joined by '=', got {raw.strip()!r}"
            )
        for form in forms:
            if not form_key(form) or len(form_key(form)) > MAX_FORM_SYLLABLES:
                raise ConfigError(f"{where}: {form!r} must have 1 to {MAX_FORM_SYLLABLES} syllables")
        context = tuple(k for k in (form_key(w) for w in context_part.split(",")) if k)
        if context_part.strip() and not context:
            raise ConfigError(f"{where}: the context after '|' lists no word")
        groups.append(AliasGroup(forms, context, where))
    return _table(groups)


def _table(groups: list[AliasGroup]) -> AliasTable:
    """Index the groups by form; a form in two groups that both apply everywhere is an error."""
    by_form: dict[Key, list[int]] = {}
    for index, group in enumerate(groups):
        for key in dict.fromkeys(form_key(f) for f in group.forms):
            for other in by_form.get(key, []):
                if not group.context and not groups[other].context:
                    raise ConfigError(
                        f"{group.line}: {' '.join(key)!r} is already a form at {groups[other].line}; "
                        "join the two lines, or give one a context after '|'"
                    )
            by_form.setdefault(key, []).append(index)
    return AliasTable(tuple(groups), {k: tuple(v) for k, v in by_form.items()})


def load_aliases(paths: str) -> AliasTable:
    """Read the comma-separated alias files of the ``search.aliases`` setting (later files add groups)."""
    chosen = [p.strip() for p in paths.split(",") if p.strip()]
    if not chosen:
        return AliasTable()
    resolved = tuple(_resolve(p) for p in chosen)
    stamps = tuple(p.stat().st_mtime_ns for p in resolved)
    return _load(resolved, stamps)


def _resolve(path: str) -> Path:
    """Return an alias file's path; the default falls back to the list shipped beside the code."""
    found = Path(path)
    if not found.is_file() and path == DEFAULT_ALIASES and SHIPPED_ALIASES.is_file():
        found = SHIPPED_ALIASES
    if not found.is_file():
        raise ConfigError(f"alias file not found: {path}")
    return found


@functools.lru_cache(maxsize=8)
def _load(paths: tuple[Path, ...], stamps: tuple[int, ...]) -> AliasTable:
    """Parse the files (cached until one changes)."""
    groups: list[AliasGroup] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"alias file {path}: {exc}") from exc
        groups.extend(parse_aliases(text, path.name).groups)
    return _table(groups)


def _expandable(clause: Clause) -> bool:
    """Tell whether a clause may be read as (part of) an alias: plain words the reader did not quote."""
    return not (clause.negated or clause.prefix or clause.quoted or clause.alternatives or clause.field)


def _group_for(table: AliasTable, key: Key, others: list[str]) -> AliasGroup | None:
    """Return the group ``key`` belongs to here: one without context, or one whose context is in the query."""
    words = " " + " ".join(others) + " "
    for index in table.groups_of(key):
        group = table.groups[index]
        if not group.context or any(f" {' '.join(c)} " in words for c in group.context):
            return group
    return None


@dataclass(frozen=True)
class Span:
    """Clauses ``start:end`` of a query make an alias form; ``keys`` are the other forms searched."""

    start: int
    end: int
    keys: tuple[Key, ...]


@dataclass(frozen=True)
class Expansion:
    """A query with its aliases: as OR clauses (for highlights), what was expanded, and where."""

    parsed: ParsedQuery
    uses: tuple[AliasUse, ...] = ()
    spans: tuple[Span, ...] = ()


def expand_aliases(parsed: ParsedQuery, table: AliasTable) -> Expansion:
    """Return the query with each alias form replaced by an OR of its group's forms, and what was expanded."""
    if not table.groups:
        return Expansion(parsed)
    clauses = list(parsed.clauses)
    out: list[Clause] = []
    uses: list[AliasUse] = []
    spans: list[Span] = []
    i = 0
    while i < len(clauses):
        found = _match_at(clauses, i, table)
        if found is None:
            out.append(clauses[i])
            i += 1
            continue
        end, group = found
        span = clauses[i:end]
        syllables: tuple[Syllable, ...] = tuple(s for c in span for s in c.syllables)
        typed_key = tuple(s.folded for s in syllables)
        # One form per distinct key: `TP.HCM` and `TP HCM` are the same phrase.
        by_key = {form_key(f): f for f in reversed(group.forms)}
        others = tuple((k, f) for k, f in reversed(by_key.items()) if k != typed_key)
        typed = Clause(syllables, words=tuple(w for c in span for w in c.words))
        alternatives = [typed] + [Clause(to_syllables(f), words=tuple(f.split())) for _, f in others]
        out.append(Clause((), alternatives=tuple(alternatives)))
        uses.append(AliasUse(" ".join(typed.words), tuple(f for _, f in others)))
        spans.append(Span(i, end, tuple(k for k, _ in others)))
        i = end
    if not uses:
        return Expansion(parsed)
    return Expansion(replace(parsed, clauses=tuple(out)), tuple(uses), tuple(spans))


def widen(
    store: IndexView, parsed: ParsedQuery, evaluation: Evaluation, spans: tuple[Span, ...]
) -> Evaluation:
    """Return ``evaluation`` (of the query as typed) with each span also matching its aliases.

    Only what matches widens: the scores stay those of the words as typed, so an article
    found only by an alias gets nothing for those words, and one with the typed form ranks
    as before. Alias phrases are checked only in the articles the rest of the query allows.
    """
    positive = [i for i, c in enumerate(parsed.clauses) if not c.negated]
    slot = {clause: number for number, clause in enumerate(positive)}
    covered = {slot[i] for span in spans for i in range(span.start, span.end)}
    allowed = store.columns.live if evaluation.excluded is None else store.columns.live & ~evaluation.excluded
    kept = [m for number, m in enumerate(evaluation.clause_masks) if number not in covered]
    candidates = np.logical_and.reduce([*kept, allowed])
    masks = list(kept)
    for span in spans:
        typed = np.logical_and.reduce([evaluation.clause_masks[slot[i]] for i in range(span.start, span.end)])
        masks.append(typed | _forms_mask(store, span.keys, candidates, cache=not kept))
    required = np.logical_and.reduce([*masks, allowed])
    return replace(evaluation, required=required, clause_masks=tuple(masks))


def _forms_mask(store: IndexView, keys: tuple[Key, ...], candidates: np.ndarray, cache: bool) -> np.ndarray:
    """Return the candidates holding any of the forms (syllables adjacent, in one text field)."""
    cache_key = ("alias forms", keys)
    if cache:
        # Nothing narrows a lone alias (`tphcm`): its phrases over the whole index are kept per state.
        found = MASKS.get(store.state, cache_key)
        if found is not None:
            narrowed: np.ndarray = found & candidates
            return narrowed
    size = candidates.shape[0]
    mask = np.zeros(size, dtype=bool)
    for key in keys:
        for field in SEARCH_FIELDS:
            slots = word_slots(field, key)
            together = np.logical_and.reduce([candidates, *(slot_docs(store, slot, size) for slot in slots)])
            if not together.any():
                continue
            if len(key) == 1:
                mask |= together
            else:
                mask[phrase_docs(store, slots, together)] = True
    if cache:
        MASKS.put(store.state, cache_key, mask)
    return mask


def _match_at(clauses: list[Clause], start: int, table: AliasTable) -> tuple[int, AliasGroup] | None:
    """Return (end, group) of the longest alias form made of whole clauses from ``start``, if any."""
    key: Key = ()
    best: tuple[int, AliasGroup] | None = None
    for end in range(start, len(clauses)):
        clause = clauses[end]
        if not _expandable(clause):
            break
        key += tuple(s.folded for s in clause.syllables)
        if len(key) > MAX_FORM_SYLLABLES:
            break
        others = [s.folded for j, c in enumerate(clauses) if not start <= j <= end for s in c.syllables]
        group = _group_for(table, key, others)
        if group is not None:
            best = (end + 1, group)
    return best
