"""The ``searchsvc`` command line: reindex, index add/delete, stats, search, serve, demo.

The only module that imports click. Core errors become a one-line message on
stderr and a non-zero exit code; no traceback reaches the user.
"""

from __future__ import annotations

import errno
import functools
import html
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

import click

from searchsvc import __version__
from searchsvc.config import Settings, load_settings
from searchsvc.errors import IndexBusy, QueryError, SearchsvcError
from searchsvc.indexer import ReindexReport
from searchsvc.ingest import IngestLimits
from searchsvc.messages import SearchResponse
from searchsvc.text import SURROGATES, encodable

EXIT_ERROR = 1
EXIT_BUSY = 75  # EX_TEMPFAIL: another writer holds the index; try again later
DEMO_INDEX = "index/demo"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """Print a line of text, whatever it holds."""
    # Lone surrogates come from an index built before ingest replaced them, or from command-line
    # bytes that are not UTF-8 (Python decodes argv with surrogateescape); UTF-8 cannot print them.
    click.echo(encodable(text), err=err, nl=nl)


def _one_line(text: str) -> str:
    """Collapse a message onto one line."""
    return " ".join(text.split())


def _exit_with(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with ``code``."""
    _echo(f"error: {_one_line(message)}", err=True)
    sys.exit(code)


def _fail(exc: SearchsvcError) -> NoReturn:
    """Print a core error and exit non-zero."""
    _exit_with(str(exc), EXIT_BUSY if isinstance(exc, IndexBusy) else EXIT_ERROR)


def _os_message(exc: OSError) -> str:
    """Describe an operating-system error (disk full, permission, not a directory) in one line."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    reason = reason[:1].lower() + reason[1:]
    where = f": {exc.filename}" if exc.filename else ""
    hint = "; free some space and run the command again" if exc.errno in _DISK_FULL else ""
    return f"{reason}{where}{hint}"


def _stdout_gone() -> NoReturn:
    """Exit quietly when the reader of our output went away (``searchsvc stats | head -1``)."""
    try:
        # Python flushes stdout once more at exit: let that go nowhere instead of failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(EXIT_ERROR)


def _wants_traceback() -> bool:
    """Return True when ``--traceback`` was given before the command."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().params.get("traceback"))


def reports_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Translate errors raised by a command into a one-line message and an exit code.

    Core errors (``SearchsvcError``) carry their own message; operating-system errors
    (disk full, permission denied) name the file. Anything else is a defect of
    searchsvc: the last resort below still prints one line, not a traceback (and
    keeps click from turning an ``EOFError`` into a bare "Aborted!").
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except SearchsvcError as exc:
            _fail(exc)
        except BrokenPipeError:
            _stdout_gone()
        except OSError as exc:
            _exit_with(_os_message(exc))
        except KeyboardInterrupt:
            _echo("\ninterrupted: the live index is unchanged", err=True)
            sys.exit(130)
        except Exception as exc:  # the documented last resort at the edge: one line, never a traceback
            if _wants_traceback():
                raise
            _exit_with(
                f"unexpected {type(exc).__name__}: {exc} (a searchsvc bug; "
                "`searchsvc --traceback ...` shows where)"
            )

    return wrapper


class _StderrLines(logging.Handler):
    """Print searchsvc's log records as ``warning: message`` lines on stderr, like the CLI's errors."""

    def emit(self, record: logging.LogRecord) -> None:
        """Print one record on one line."""
        _echo(f"{record.levelname.lower()}: {_one_line(record.getMessage())}", err=True)


def _log_to_stderr(ctx: click.Context) -> None:
    """Show searchsvc's warnings (a read model rebuilt ...) on stderr while this command runs."""
    logger = logging.getLogger("searchsvc")
    handler = _StderrLines(logging.WARNING)
    logger.addHandler(handler)
    ctx.call_on_close(lambda: logger.removeHandler(handler))


def _settings(ctx: click.Context, index_dir: str | None = None, **server: Any) -> Settings:
    """Return the settings of this invocation with command-line overrides applied."""
    settings: Settings = ctx.obj["settings"]
    if index_dir:
        settings = replace(settings, index=replace(settings.index, dir=index_dir))
    changes = {k: v for k, v in server.items() if v is not None}
    if changes:
        settings = replace(settings, server=replace(settings.server, **changes))
    return settings


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML settings file.")
@click.option(
    "--traceback", is_flag=True, help="Show the traceback of an unexpected error (for bug reports)."
)
@click.version_option(version=__version__, prog_name="searchsvc")
@click.pass_context
@reports_errors
def main(ctx: click.Context, config_path: str | None, traceback: bool) -> None:
    """Vietnamese news search: build the index, query it, serve it."""
    if ctx.invoked_subcommand not in ("serve", "demo"):  # gunicorn logs for the server
        _log_to_stderr(ctx)
    ctx.obj = {"settings": load_settings(config_path)}


class Progress:
    """Print indexing progress (articles written to segments, articles read, rate) on one line."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.perf_counter()

    def __call__(self, written: int, read: int) -> None:
        """Report that ``written`` articles are in finished segments and ``read`` were read so far."""
        if not self.enabled:
            return
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        _echo(
            f"\rwritten {written:,} of {read:,} articles read, {written / elapsed:,.0f} docs/s, {elapsed:,.0f}s ",
            nl=False,
            err=True,
        )

    def close(self) -> None:
        """End the progress line."""
        if self.enabled:
            _echo("", err=True)


def _print_report(report: ReindexReport, action: str) -> None:
    """Print the summary of a reindex or an incremental add."""
    size = f", index size {report.size_bytes / 1e6:,.1f} MB" if report.size_bytes else ""
    _echo(
        f"{action} {report.indexed} articles into {report.generation} in {report.seconds:.1f}s"
        f" ({report.indexed / max(report.seconds, 1e-6):,.0f} docs/s){size}; "
        f"rejected {len(report.rejects)}, duplicates {report.duplicates}, warnings {len(report.warnings)}"
    )
    for reject in report.rejects[:20]:
        where = f"{reject.path}:{reject.line}" if reject.line is not None else reject.path
        _echo(f"  rejected {where}: {reject.reason}", err=True)
    if len(report.rejects) > 20:
        _echo(f"  … and {len(report.rejects) - 20} more rejects", err=True)
    for warning in report.warnings[:10]:
        where = f"{warning.path}:{warning.line}" if warning.line is not None else warning.path
        _echo(f"  warning {where}: {warning.reason}", err=True)
    if report.duplicates:
        shown = ", ".join(report.duplicate_ids[:5])
        _echo(
            f"  duplicate ids (the later record won): {shown}{' …' if report.duplicates > 5 else ''}",
            err=True,
        )


def _write_rejects(report: ReindexReport, path: str | None) -> None:
    """Write the rejects file when asked for and there is something to write."""
    if path and report.rejects:
        from searchsvc.ingest import write_rejects

        write_rejects(report.rejects, Path(path))
        _echo(f"  rejects written to {path}", err=True)


@dataclass(frozen=True)
class _Writer:
    """The index-changing commands of one backend, with the settings already applied."""

    reindex: Callable[[list[str], Callable[[int, int], None], int | None], ReindexReport]
    add: Callable[[list[str]], ReindexReport]
    delete: Callable[[list[str]], tuple[list[str], list[str]]]


def _writer(settings: Settings) -> _Writer:
    """Return reindex and index add/delete of the configured backend (``backend.kind``)."""
    limits = IngestLimits.from_settings(settings.index)
    if settings.backend.kind == "opensearch":
        from searchsvc.opensearch import indexing

        return _Writer(
            # --procs is the embedded builder's: the cluster indexes in its own threads.
            reindex=lambda sources, progress, procs: indexing.reindex(settings, sources, progress, limits),
            add=lambda sources: indexing.add_articles(settings, sources, limits),
            delete=lambda ids: indexing.delete_articles(settings, ids),
        )
    from searchsvc import indexer

    return _Writer(
        reindex=lambda sources, progress, procs: indexer.reindex(
            sources,
            settings.index_dir,
            procs=procs or settings.index.procs,
            limitmb=settings.index.limitmb,
            keep_generations=settings.index.keep_generations,
            limits=limits,
            progress=progress,
        ),
        add=lambda sources: indexer.add_articles(
            sources, settings.index_dir, timeout=settings.index.lock_timeout, limits=limits
        ),
        delete=lambda ids: indexer.delete_articles(
            ids, settings.index_dir, timeout=settings.index.lock_timeout
        ),
    )


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--index-dir", help="Index directory (default: index.dir setting).")
@click.option(
    "--procs", type=click.IntRange(1, 64), help="Indexing processes (default: index.procs setting)."
)
@click.option(
    "--rejects", "rejects_path", type=click.Path(dir_okay=False), help="Write rejected records here (JSONL)."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
@reports_errors
def reindex(
    ctx: click.Context,
    sources: tuple[str, ...],
    index_dir: str | None,
    procs: int | None,
    rejects_path: str | None,
    quiet: bool,
) -> None:
    """Build a new index generation from SOURCES and switch to it when complete."""
    settings = _settings(ctx, index_dir)
    progress = Progress(enabled=not quiet and sys.stderr.isatty())
    report = _writer(settings).reindex(list(sources), progress, procs)
    progress.close()
    _print_report(report, "indexed")
    _write_rejects(report, rejects_path)


@main.group()
def index() -> None:
    """Change the live index in place (incremental)."""


@index.command("add")
@click.argument("sources", nargs=-1, required=True)
@click.option("--index-dir", help="Index directory (default: index.dir setting).")
@click.option(
    "--rejects", "rejects_path", type=click.Path(dir_okay=False), help="Write rejected records here (JSONL)."
)
@click.pass_context
@reports_errors
def index_add(
    ctx: click.Context, sources: tuple[str, ...], index_dir: str | None, rejects_path: str | None
) -> None:
    """Insert or replace the articles of SOURCES in the live index."""
    report = _writer(_settings(ctx, index_dir)).add(list(sources))
    _print_report(report, "added/updated")
    _write_rejects(report, rejects_path)


@index.command("delete")
@click.argument("ids", nargs=-1, required=True)
@click.option("--index-dir", help="Index directory (default: index.dir setting).")
@click.pass_context
@reports_errors
def index_delete(ctx: click.Context, ids: tuple[str, ...], index_dir: str | None) -> None:
    """Delete articles by id from the live index."""
    deleted, missing = _writer(_settings(ctx, index_dir)).delete(list(ids))
    _echo(f"deleted {len(deleted)} article(s)")
    if missing:
        _echo(f"not found: {', '.join(missing)}", err=True)
        sys.exit(EXIT_ERROR)


@main.command()
@click.option("--index-dir", help="Index directory (default: index.dir setting).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def stats(ctx: click.Context, index_dir: str | None, as_json: bool) -> None:
    """Show documents, generation, size and counts per category and source."""
    from searchsvc.engine import open_backend

    store = open_backend(_settings(ctx, index_dir))
    try:
        data = store.stats()
    finally:
        store.close()
    if as_json:
        _echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    _echo(f"generation   {data['generation']} (schema {data['schema_version']}, built {data['created']})")
    _echo(f"documents    {data['documents']:,} ({data['dated_documents']:,} dated)")
    _echo(f"size on disk {data['size_bytes'] / 1e6:,.1f} MB")
    if data["date_range"]:
        _echo(f"dates        {data['date_range'][0]} … {data['date_range'][1]}")
    for title, key in (("categories", "categories"), ("sources", "sources")):
        _echo(f"{title}:")
        for value, count in data[key].items():
            _echo(f"  {count:>8,}  {value}")


@main.command()
@click.argument("article_id")
@click.option("--limit", default="5", show_default=True, help="Most articles to show (1-20).")
@click.option("--before", help="Only articles published before YYYY-MM-DD (Vietnam time).")
@click.option("--index-dir", help="Index directory (default: index.dir setting).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON response.")
@click.pass_context
@reports_errors
def related(
    ctx: click.Context, article_id: str, limit: str, before: str | None, index_dir: str | None, as_json: bool
) -> None:
    """Show other articles on the same story or topic as ARTICLE_ID (the API's answer)."""
    from searchsvc.engine import open_backend
    from searchsvc.related import related_params

    settings = _settings(ctx, index_dir)
    count, until = related_params({"limit": [limit], "before": [before or ""]})
    backend = open_backend(settings)
    try:
        answer = backend.related(article_id, count, until, settings.search)
    finally:
        backend.close()
    if as_json:
        _echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return
    _echo(f"{len(answer.items)} related to {article_id} (by {', '.join(answer.terms[:8]) or 'nothing'})")
    for item in answer.items:
        _echo(f"  {item.score:>8.2f}  {(item.published or '')[:10]:<10}  {item.id}  {item.title}")


@main.group()
def report() -> None:
    """Report on what the service recorded (the opt-in query log)."""


@report.command("queries")
@click.option(
    "--days", type=click.IntRange(1, 3660), default=7, show_default=True, help="Days back, today included."
)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Rows per list.")
@click.option("--index-dir", help="Index directory holding the log (default: index.dir setting).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@reports_errors
def report_queries(ctx: click.Context, days: int, limit: int, index_dir: str | None, as_json: bool) -> None:
    """Show the top queries, those with no or few results, and the click-through of results."""
    from searchsvc.querylog import log_path
    from searchsvc.querylog import report as read_report

    settings = _settings(ctx, index_dir)
    found = read_report(
        log_path(settings.querylog, settings.index_dir), days, settings.querylog.min_count, limit
    )
    if as_json:
        _echo(json.dumps(found.to_dict(), ensure_ascii=False, indent=1))
        return
    _echo(
        f"since {found.since} ({days} day(s)): {found.searches:,} searches of queries seen at least "
        f"{settings.querylog.min_count} times, {found.clicks:,} result clicks "
        f"(click-through {found.click_through:.0%})"
    )
    sections: tuple[tuple[str, tuple[Any, ...], str, Callable[[Any], int]], ...] = (
        ("top queries", found.top, "searches", lambda r: r.searches),
        ("no results (write about them, or add an alias)", found.no_results, "no-result", lambda r: r.zero),
        ("few results (under 5)", found.few_results, "few", lambda r: r.few - r.zero),
    )
    for title, rows, label, value in sections:
        _echo(f"\n{title}:")
        if not rows:
            _echo("  (none)")
        for row in rows:
            _echo(f"  {value(row):>7,} {label:<9} {row.click_through:>5.0%} click-through  {row.query}")


_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def _plain(fragment: str, color: bool) -> str:
    """Turn highlight HTML into terminal text (marked words bold when ``color``)."""
    marked = _MARK.sub(
        lambda m: click.style(m.group(1), bold=True, fg="yellow") if color else m.group(1), fragment
    )
    return html.unescape(marked)


@main.command()
@click.argument("query", nargs=-1)
@click.option("--category", multiple=True, help="Only this category (repeatable).")
@click.option("--source", multiple=True, help="Only this source (repeatable).")
@click.option("--author", help="Only this author.")
@click.option("--tag", help="Only this tag.")
@click.option("--from", "date_from", help="Published on or after YYYY-MM-DD (Vietnam time).")
@click.option("--to", "date_to", help="Published on or before YYYY-MM-DD (Vietnam time).")
@click.option("--sort", default="relevance", show_default=True, help="relevance, newest or oldest.")
@click.option("--page", default="1", show_default=True)
@click.option("--per-page", default=None, help="Results per page.")
@click.option(
    "--ignore-accents",
    is_flag=True,
    help="Let a word typed with marks match every accent form (accents=ignore).",
)
@click.option("--index-dir", help="Index directory (default: index.dir setting).")
@click.option("--as-typed", is_flag=True, help="Never replace the query by its correction.")
@click.option(
    "--aliases/--no-aliases",
    default=None,
    help="Search abbreviations and aliases (UBND = Ủy ban nhân dân) too, or never "
    "(default: only when the words as typed find nothing).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON response.")
@click.pass_context
@reports_errors
def search(
    ctx: click.Context,
    query: tuple[str, ...],
    category: tuple[str, ...],
    source: tuple[str, ...],
    author: str | None,
    tag: str | None,
    date_from: str | None,
    date_to: str | None,
    sort: str,
    page: str,
    per_page: str | None,
    ignore_accents: bool,
    index_dir: str | None,
    as_typed: bool,
    aliases: bool | None,
    as_json: bool,
) -> None:
    """Search the index and print the results (a table, or JSON with --json)."""
    from searchsvc.engine import open_backend
    from searchsvc.params import request_from_params
    from searchsvc.search import search as run_search

    settings = _settings(ctx, index_dir)
    params: dict[str, list[str]] = {"q": [" ".join(query)], "sort": [sort], "page": [page]}
    params["category"], params["source"] = list(category), list(source)
    if ignore_accents:
        params["accents"] = ["ignore"]
    for name, value in (
        ("author", author),
        ("tag", tag),
        ("date_from", date_from),
        ("date_to", date_to),
        ("per_page", per_page),
        ("as_typed", "1" if as_typed else None),
        ("aliases", None if aliases is None else ("1" if aliases else "0")),
    ):
        if value:
            params[name] = [value]
    for name, values in params.items():
        if any(SURROGATES.search(value) for value in values):
            # Bytes that are not UTF-8 on the command line; the API answers 400 for them.
            raise QueryError("bad_request", f"{name!r} is not valid UTF-8")
    request = request_from_params(params, settings.search)
    store = open_backend(settings)
    try:
        response = run_search(store, request, settings.search)
    finally:
        store.close()
    if as_json:
        _echo(json.dumps(response.to_dict(), ensure_ascii=False, indent=1))
        return
    _print_response(response, color=sys.stdout.isatty())


def _print_response(response: SearchResponse, color: bool) -> None:
    """Print a search response as a readable table."""
    reading = (
        ""
        if response.reading.mode == "literal"
        else f", read as {response.reading.mode}: {response.reading.text}"
    )
    partial = ", partial match (not every word found)" if response.partial else ""
    _echo(f"{response.total:,} results in {response.took_ms:.1f} ms{reading}{partial}")
    if response.correction:
        _echo(f"showing results for: {response.correction.text} (search exactly with --as-typed)")
    for alias in response.aliases:
        _echo(f"also searched: {alias.typed} = {', '.join(alias.aliases)} (turn off with --no-aliases)")
    for alias in response.alias_offers:
        _echo(f"also written: {alias.typed} = {', '.join(alias.aliases)} (search them too with --aliases)")
    if response.suggestion:
        _echo(f"did you mean: {response.suggestion.text}")
    for word in response.loosened:
        _echo(f"no article has {word.word!r} as typed: read as {', '.join(word.forms)} ({word.level})")
    if response.accent_extra:
        _echo(f"{response.accent_extra:,} more with accents ignored (--ignore-accents)")
    first = (response.page - 1) * response.per_page
    for rank, hit in enumerate(response.hits, first + 1):
        date = (hit.published or "")[:10] or "----------"
        meta = " · ".join(x for x in (hit.category, hit.source) if x)
        _echo(f"{rank:>4}. {_plain(hit.highlights.title, color)}")
        _echo(f"      {date}  {meta}  score {hit.score:.2f}  id {hit.id}")
        _echo(f"      {_plain(hit.highlights.snippet, color)}")
    for name in ("category", "source", "year"):
        values = response.facets.get(name) or ()
        if values:
            shown = ", ".join(f"{v.value} {v.count}" for v in values[:8])
            _echo(f"{name}: {shown}{' …' if len(values) > 8 else ''}")


@main.command()
@click.option("--index-dir", help="Index directory (default: index.dir setting).")
@click.option("--host", help="Bind address (default: server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port).")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="gunicorn worker processes (default: server.workers)."
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="Access log lines as text or one JSON object each (default: server.log_format).",
)
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@click.pass_context
@reports_errors
def serve(
    ctx: click.Context,
    index_dir: str | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    log_format: str | None,
    dev: bool,
) -> None:
    """Serve the search page and JSON API (gunicorn; --dev for Flask's server)."""
    from searchsvc.web.server import check_address, run_dev, run_production

    settings = _settings(ctx, index_dir, host=host, port=port, workers=workers, log_format=log_format)
    check_address(settings.server)  # before saying it serves
    _echo(f"serving {settings.index_dir} on http://{settings.server.host}:{settings.server.port}/", err=True)
    (run_dev if dev else run_production)(settings)


@main.command()
@click.option("--index-dir", default=DEMO_INDEX, show_default=True, help="Where the demo index is built.")
@click.option("--host", help="Bind address (default: server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: server.port).")
@click.option("--rebuild", is_flag=True, help="Rebuild the demo index even if it exists.")
@click.option("--no-serve", is_flag=True, help="Only build the demo index.")
@click.pass_context
@reports_errors
def demo(
    ctx: click.Context, index_dir: str, host: str | None, port: int | None, rebuild: bool, no_serve: bool
) -> None:
    """Build (if needed) and serve the built-in demo corpus of Vietnamese articles."""
    from searchsvc.demo import demo_sources
    from searchsvc.generations import CURRENT
    from searchsvc.indexer import reindex as build

    settings = _settings(ctx, index_dir, host=host, port=port)
    if rebuild or not (settings.index_dir / CURRENT).is_file():
        report = build([str(p) for p in demo_sources()], settings.index_dir)
        _print_report(report, "indexed demo corpus:")
    if no_serve:
        return
    from searchsvc.web.server import run_production

    _echo(f"demo: open http://{settings.server.host}:{settings.server.port}/", err=True)
    run_production(settings)


if __name__ == "__main__":
    main()
