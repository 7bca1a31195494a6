"""The fault suite of issue 10: each defect the hostile pass found, reproduced and held off.

Kept fast: small indexes built here, no timed assertions. The slow-client case
against a real ``searchsvc serve`` lives in ``test_server.py``.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import pickle
import resource
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Self

import pytest
from click.testing import CliRunner

from searchsvc.cli import main
from searchsvc.config import load_settings
from searchsvc.highlight import Targets, snippet
from searchsvc.indexer import reindex
from searchsvc.lexicon import Completion
from searchsvc.messages import FacetValue, Highlights, Hit, SearchRequest, SearchResponse
from searchsvc.related import RelatedArticle, RelatedResponse
from searchsvc.web import create_app

SURROGATE_RECORDS = [
    {
        "id": "surr",
        "title": "Tin a\ud800b Hà Nội",
        "body": "Giày thủy \udfff tinh ở Hà Nội.",
        "tags": ["x\ud800"],
        "author": "Lan\ud800",
    },
    {"id": "tot", "title": "Hà Nội đón khách", "body": "Khách đến Hà Nội đông."},
]


@pytest.fixture(scope="module")
def surrogate_client(tmp_path_factory: pytest.TempPathFactory):
    """Serve an index that holds lone surrogates, as one built before ingest replaced them."""
    directory = tmp_path_factory.mktemp("surrogates")
    source = directory / "articles.jsonl"
    # ensure_ascii keeps each lone surrogate as a "\ud800" escape, as a CMS export would.
    source.write_text("".join(json.dumps(r) + "\n" for r in SURROGATE_RECORDS), encoding="ascii")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("searchsvc.ingest.fields._encodable", lambda article: (article, []))
        try:
            reindex([source], directory / "index")
        except UnicodeEncodeError:
            pytest.skip("this index format refuses lone surrogates, so no page can meet one in an index")
    settings = load_settings(environ={}, overrides={"index": {"dir": str(directory / "index")}})
    return create_app(settings).test_client()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=",
        "/?q=ha+noi",
        "/api/search?q=",
        "/api/search?q=tin+a",
        "/api/suggest?q=t",
        "/articles/surr",
    ],
)
def test_lone_surrogates_in_an_index_never_give_500(surrogate_client, path):
    response = surrogate_client.get(path)
    assert response.status_code == 200
    text = response.get_data().decode("utf-8")  # strict: the body is valid UTF-8
    assert "\ufffd" in text or path.startswith("/api/suggest")


def test_api_article_with_a_lone_surrogate_is_valid_json(surrogate_client):
    body = surrogate_client.get("/api/articles/surr").get_json()
    assert (body["title"], body["tags"]) == ("Tin a\ufffdb Hà Nội", ["x\ufffd"])


def test_suggest_with_a_lone_surrogate_is_valid_json(surrogate_client):
    body = surrogate_client.get("/api/suggest?q=tin").get_json()
    assert body["suggestions"][0]["text"] == "Tin a\ufffdb Hà Nội"


class SurrogateStore:
    """A store whose stored text holds lone surrogates, whatever the index format can hold."""

    generation = "gen-test"
    doc_count = 1

    def get_article(self, article_id: str) -> dict:
        """Return an article with a lone surrogate in every text field."""
        return {
            "id": article_id,
            "url": "https://example.vn/a\ud800",
            "title": "Tin a\ud800b",
            "summary": "Tóm\udfff tắt",
            "body": "Thân\ud800 bài",
            "author": "Lan\ud800",
            "published": None,
            "category": "Thời\ud800 sự",
            "source": "Báo\udc00",
            "tags": ["x\ud800"],
        }

    def complete(self, prefix: str, limit: int) -> list[Completion]:
        """Return one completion with a lone surrogate."""
        return [Completion("Tin a\ud800b", "<mark>Tin</mark> a\ud800b", 1)]

    def health(self) -> dict:
        """Report ok."""
        return {"status": "ok", "generation": self.generation, "documents": 1}

    def related(self, article_id: str, limit: int, before, settings) -> RelatedResponse:
        """Answer related articles whose id, title and category hold lone surrogates."""
        return surrogate_related(self, article_id, limit, before, settings)


def surrogate_response(request: SearchRequest) -> SearchResponse:
    """Return a search response whose every text holds a lone surrogate."""
    hit = Hit(
        id="a\ud800",
        title="Tin a\ud800b",
        url=None,
        published=None,
        category="Thời\ud800 sự",
        source="Báo\udc00",
        author="Lan\ud800",
        score=1.0,
        highlights=Highlights("<mark>Tin</mark> a\ud800b", "Thân\ud800 bài"),
        tags=("x\ud800",),
    )
    facets = {"category": (FacetValue("Thời\ud800 sự", 1),), "source": (FacetValue("Báo\udc00", 1),)}
    return SearchResponse(request.q, 1, request.page, request.per_page, 1.0, (hit,), facets)


@pytest.fixture()
def surrogate_web(demo_settings, monkeypatch):
    """Return a client whose store and search answer with lone surrogates."""
    monkeypatch.setattr("searchsvc.web.StoreHolder.get", lambda self: SurrogateStore())
    monkeypatch.setattr(
        "searchsvc.search.search", lambda store, request, settings=None: surrogate_response(request)
    )
    return create_app(demo_settings).test_client()


def surrogate_related(store, article_id: str, limit: int, before, settings) -> RelatedResponse:
    """Answer related articles whose id, title and category hold lone surrogates."""
    item = RelatedArticle("b\ud800", "Tin b\ud800", None, None, "Thời\ud800 sự", None, 1.0)
    return RelatedResponse(article_id, (item,), (), 0.0)


@pytest.mark.parametrize(
    "path", ["/", "/?q=tin", "/api/search?q=tin", "/api/suggest?q=tin", "/articles/a", "/api/articles/a"]
)
def test_every_page_replaces_lone_surrogates_on_output(surrogate_web, path):
    response = surrogate_web.get(path)
    assert response.status_code == 200
    text = response.get_data().decode("utf-8")  # strict: the body is valid UTF-8
    assert "\ufffd" in text


def test_snippet_of_a_one_megabyte_body_completes():
    # Quadratic before: 95 s for this body and query; the worker was killed at 30 s.
    body = ("Thủ tướng Chính phủ làm việc tại Hà Nội. " * 25_000)[:1_000_000]
    targets = Targets(frozenset({"thu", "tuong", "chinh", "phu", "ha", "noi"}))
    assert snippet(body, targets).startswith(
        "<mark>Thủ tướng Chính phủ</mark> làm việc tại <mark>Hà Nội</mark>"
    )


def test_readme_names_this_suite():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "tests/test_faults.py" in readme


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/search?page=%D9%A3", 400, "invalid_parameter"),  # int() read it as 3
        ("/api/search?page=1_0", 400, "invalid_parameter"),  # int() read it as 10
        ("/api/suggest?q=ha&limit=%D9%A3", 400, "invalid_parameter"),
        ("/api/search?q=%ff%fe", 400, "bad_request"),  # was searched as '%FF%FE'
    ],
)
def test_parameters_are_as_strict_as_documented(client, url, status, code):
    response = client.get(url)
    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)


def test_options_is_204_not_an_empty_page(client):
    response = client.options("/api/search")
    assert (response.status_code, response.data, "GET" in response.headers["Allow"]) == (204, b"", True)


def test_autocomplete_marks_the_typed_letters_after_punctuation(client):
    body = client.get("/api/suggest?q=sau+bao+ha").get_json()
    assert body["suggestions"][0]["html"].startswith("<mark>Sau bão, Hà</mark> Nội")


# ---------------------------------------------------------------- the command line (issue 10 #6, #7)

CLI_CONFIG = Path(__file__).resolve().parents[1] / "config" / "searchsvc.toml"
CORE_ARTICLES = Path(__file__).resolve().parent / "fixtures" / "core" / "articles.jsonl"


def run_cli(*args: str | Path):
    """Run the CLI in-process with the repository's config."""
    return CliRunner().invoke(main, ["--config", str(CLI_CONFIG), *map(str, args)])


def assert_one_line_error(result, starts: str = "error: ") -> None:
    """Assert the command exited 1 with one ``error:`` line (after any ``warning:`` lines), no traceback."""
    lines = result.stderr.splitlines()
    # CliRunner turns an uncaught exception into exit code 1 too: only SystemExit is ours.
    assert (type(result.exception), result.exit_code, result.stdout) == (SystemExit, 1, "")
    assert lines[-1].startswith(starts)
    assert [line for line in lines[:-1] if not line.startswith("warning: ")] == []
    assert ("Traceback" in result.output, "Aborted!" in result.output) == (False, False)


@pytest.fixture(scope="module")
def pristine_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the six core articles into an index once; tests damage copies of it."""
    index_dir = tmp_path_factory.mktemp("pristine") / "index"
    reindex([CORE_ARTICLES], index_dir)
    return index_dir


@pytest.fixture()
def live_copy(pristine_index: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Return (index directory, live generation directory) of a fresh copy of the core index."""
    index_dir = tmp_path / "index"
    shutil.copytree(pristine_index, index_dir)
    return index_dir, index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


def truncate_half(*paths: Path) -> None:
    """Cut each file to half its size, as a full disk or a torn copy leaves it."""
    for path in paths:
        os.truncate(path, path.stat().st_size // 2)


def garble(*paths: Path) -> None:
    """Overwrite each file with the same number of arbitrary bytes."""
    for path in paths:
        path.write_bytes(bytes(range(7, 256)) * (path.stat().st_size // 249 + 1))


DAMAGES = {
    "truncated segment": lambda gen: truncate_half(*gen.glob("*.seg")),
    "truncated TOC": lambda gen: truncate_half(*gen.glob("_MAIN_*.toc")),
    "truncated lexicon.pickle and lexicon.rm": lambda gen: truncate_half(
        gen / "lexicon.pickle", gen / "lexicon.rm"
    ),
    "garbage lexicon.pickle and lexicon.rm": lambda gen: garble(gen / "lexicon.pickle", gen / "lexicon.rm"),
    "CURRENT names a missing generation": lambda gen: (gen.parent / "CURRENT").write_text("gen-gone\n"),
    "CURRENT is not text": lambda gen: (gen.parent / "CURRENT").write_bytes(b"\xff\xfe\x00"),
    "manifest is not an object": lambda gen: (gen / "manifest.json").write_text("[1]"),
    "manifest is garbage": lambda gen: garble(gen / "manifest.json"),
}


@pytest.mark.parametrize("command", [["stats"], ["stats", "--json"], ["search", "ha", "noi"], ["search"]])
@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_index_is_one_line_and_exit_1(live_copy, command, damage):
    index_dir, generation = live_copy
    DAMAGES[damage](generation)
    assert_one_line_error(run_cli(*command, "--index-dir", index_dir))


@pytest.mark.parametrize(
    "damage",
    [
        "truncated TOC",
        "CURRENT names a missing generation",
        "CURRENT is not text",
        "manifest is not an object",
        "manifest is garbage",
    ],
)
def test_index_add_to_a_damaged_index_is_one_line_and_exit_1(live_copy, tmp_path, damage):
    index_dir, generation = live_copy
    DAMAGES[damage](generation)
    result = run_cli("index", "add", CORE_ARTICLES, "--index-dir", index_dir)
    assert_one_line_error(result)


@pytest.mark.parametrize(
    ("damage", "warning"),
    [
        (lambda gen: truncate_half(*gen.glob("readmodel/*.rm")), "warning: read model MAIN_"),
        (lambda gen: garble(*gen.glob("readmodel/*.rm")), "warning: read model MAIN_"),
        (lambda gen: truncate_half(gen / "lexicon.rm"), "warning: read model lexicon.rm"),
        (lambda gen: garble(gen / "lexicon.rm"), "warning: read model lexicon.rm"),
    ],
    ids=["truncated read model", "garbage read model", "truncated lexicon.rm", "garbage lexicon.rm"],
)
def test_a_damaged_read_model_is_rebuilt_with_a_one_line_warning(live_copy, damage, warning):
    index_dir, generation = live_copy
    damage(generation)
    result = run_cli("search", "hoa", "binh", "--index-dir", index_dir, "--json")
    assert (result.exception, result.exit_code) == (None, 0)
    assert json.loads(result.stdout)["hits"][0]["id"] == "core-01"
    assert result.stderr.startswith(warning)
    assert (len(result.stderr.splitlines()), "Traceback" in result.output) == (1, False)


def test_a_truncated_segment_is_one_line_from_a_real_process(live_copy):
    # Before: both workers died of SIGBUS and the CLI printed only "Aborted!" (issue 10 #6).
    index_dir, generation = live_copy
    DAMAGES["truncated segment"](generation)
    completed = subprocess.run(
        [sys.executable, "-m", "searchsvc.cli", "--config", str(CLI_CONFIG), "search", "ha", "noi"]
        + ["--index-dir", str(index_dir)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (completed.returncode, completed.stdout, completed.stderr.count("\n")) == (1, "", 1)
    assert completed.stderr.startswith("error: segment MAIN_")
    assert completed.stderr.endswith("is damaged (EOFError); run `searchsvc reindex`\n")


# ---------------------------------------------------------------- a damaged TOC (issue 20 #12, issue 21 #3)


def toc_of(generation: Path) -> Path:
    """Return the newest TOC file of a generation."""
    return max(generation.glob("_MAIN_*.toc"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))


def toc_cuts(generation: Path) -> list[int]:
    """Return sizes to cut the TOC to, from empty to all but its last byte (each raises something else)."""
    size = toc_of(generation).stat().st_size
    return sorted({*range(0, size, max(1, size // 16)), size - 1})


def test_a_truncated_toc_at_any_length_is_one_line_and_exit_1(live_copy, tmp_path):
    # Before: some cuts gave "unexpected UnpicklingError ... (a searchsvc bug)", an empty TOC a TypeError.
    index_dir, generation = live_copy
    pristine = tmp_path / "pristine-toc"
    shutil.copy(toc_of(generation), pristine)
    for size in toc_cuts(generation):
        toc_of(generation).write_bytes(pristine.read_bytes()[:size])
        result = run_cli("search", "ha", "noi", "--index-dir", index_dir)
        assert_one_line_error(result)
        assert result.stderr.splitlines()[-1].startswith(
            f"error: index generation {generation.name} cannot be opened"
        )


def test_a_garbled_toc_is_one_line_and_exit_1(live_copy):
    index_dir, generation = live_copy
    garble(toc_of(generation))
    assert_one_line_error(run_cli("stats", "--index-dir", index_dir))


def test_a_truncated_toc_at_rest_answers_503_and_a_worker_still_boots(live_copy):
    from searchsvc.web import open_early

    index_dir, generation = live_copy
    toc = toc_of(generation)
    toc.write_bytes(toc.read_bytes()[:56])
    app = create_app(load_settings(environ={}, overrides={"index": {"dir": str(index_dir)}}))
    open_early(app)  # a gunicorn worker's boot: it must not raise
    client = app.test_client()
    for path in ("/api/search?q=ha+noi", "/healthz", "/"):
        assert client.get(path).status_code == 503


@pytest.mark.parametrize("cut", [0, 56, 0.5], ids=["empty", "56 bytes", "half"])
def test_a_damaged_toc_committed_while_serving_keeps_the_old_state(live_copy, tmp_path, cut):
    # Before: the refresh caught only IndexNotReady/OSError, so requests answered 500 and /healthz never degraded.
    from searchsvc.indexer import add_articles
    from searchsvc.web import STORE_KEY

    index_dir, generation = live_copy
    app = create_app(load_settings(environ={}, overrides={"index": {"dir": str(index_dir)}}))
    client = app.test_client()
    total = client.get("/api/search?q=").get_json()["total"]
    source = tmp_path / "new.jsonl"
    source.write_text(json.dumps({"id": "moi-1", "title": "Tin mới", "body": "Một bài mới."}) + "\n", "utf-8")
    add_articles([source], index_dir)
    toc = toc_of(generation)
    data = toc.read_bytes()
    toc.write_bytes(data[: int(len(data) * cut) if isinstance(cut, float) else cut])
    with app.app_context():
        app.extensions[STORE_KEY].get().refresh(force=True)
    for _ in range(3):
        response = client.get("/api/search?q=")
        assert (response.status_code, response.get_json()["total"]) == (200, total)
    health = client.get("/healthz")
    assert (health.status_code, health.get_json()["status"], health.get_json()["generation"]) == (
        200,
        "degraded",
        generation.name,
    )
    assert str(tmp_path) not in health.get_json()["problem"]


@pytest.mark.parametrize("raised", [pickle.UnpicklingError("bad"), KeyError("x"), struct.error("short")])
def test_unreadable_stored_fields_are_503_and_one_line(live_copy, monkeypatch, raised):
    # Before: what unpickling a damaged stored-fields block raises became a 500 and "a searchsvc bug".
    index_dir, _ = live_copy

    def damaged_block(self, docnum):
        raise raised

    monkeypatch.setattr("whoosh.reading.SegmentReader.stored_fields", damaged_block)
    client = create_app(load_settings(environ={}, overrides={"index": {"dir": str(index_dir)}})).test_client()
    response = client.get("/api/search?q=hoa+binh")
    assert (response.status_code, response.get_json()["error"]["code"]) == (503, "index_not_ready")
    result = run_cli("search", "hoa", "binh", "--index-dir", index_dir)
    assert_one_line_error(result, starts="error: stored fields of segment MAIN_")


class FullDisk:
    """A disk under ``root`` with ``budget`` bytes left: writes beyond it fail with ENOSPC.

    Every file opened for writing under ``root`` (Whoosh's segments and TOC, the read
    models, the lexicon, the manifest) shares the budget, so raising it moves the
    failure through each stage of a build.
    """

    real_open = staticmethod(builtins.open)

    def __init__(self, root: Path, budget: int) -> None:
        self.root = str(root)
        self.left = budget

    def spend(self, size: int) -> None:
        """Take ``size`` bytes from the budget, or fail as a full disk does."""
        if size > self.left:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.left -= size

    def open(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        """Open like ``open``; a file written under ``root`` is metered."""
        handle = self.real_open(file, mode, *args, **kwargs)
        inside = isinstance(file, str | os.PathLike) and os.fspath(file).startswith(self.root)
        return MeteredFile(handle, self) if inside and set(mode) & set("wax+") else handle


class MeteredFile:
    """A writable file whose writes spend the budget of a ``FullDisk``."""

    def __init__(self, handle: Any, disk: FullDisk) -> None:
        self._handle = handle
        self._disk = disk

    def write(self, data: Any) -> int:
        """Write ``data`` if the disk has room for it."""
        self._disk.spend(len(data))
        return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


@pytest.fixture()
def full_disk(monkeypatch):
    """Return a function that leaves ``budget`` bytes free under ``root`` for the rest of the test."""

    def fill(root: Path, budget: int) -> None:
        disk = FullDisk(root, budget)
        monkeypatch.setattr(builtins, "open", disk.open)
        monkeypatch.setattr(io, "open", disk.open)  # pathlib's write_text opens through io.open

    return fill


# An index add of the core articles writes about 117 KB: its bulk segment's files (to
# 44 KB), the compound file (to 89 KB), the segment's read model (to 110 KB), the writer's
# own files (to 113 KB) and the TOC commit (to 116 KB); these budgets stop it in each.
BUDGETS = [0, 2_000, 20_000, 60_000, 100_000, 111_000, 114_000]
# A reindex (the bulk writer) writes about 123 KB: the first TOC (0-2.7 KB), the segment's
# files (to 47 KB), the compound segment file (to 92 KB), the read model (to 113 KB), the
# lexicon (to 120 KB) and the TOC that lists the segment (to 123 KB).
REINDEX_BUDGETS = [0, 2_000, 20_000, 60_000, 100_000, 110_000, 118_000, 121_500]


@pytest.mark.parametrize("budget", REINDEX_BUDGETS)
def test_reindex_onto_a_full_disk_is_one_line_and_leaves_the_live_index(live_copy, full_disk, budget):
    index_dir, generation = live_copy
    full_disk(index_dir, budget)
    result = run_cli("reindex", CORE_ARTICLES, "--index-dir", index_dir, "--quiet")
    assert_one_line_error(result, "error: no space left on device; free some space and run the command")
    assert (index_dir / "CURRENT").read_text(encoding="utf-8").strip() == generation.name
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock", "CURRENT", generation.name]
    found = run_cli("search", "hoa", "binh", "--index-dir", index_dir, "--json")
    assert (found.exit_code, json.loads(found.stdout)["total"]) == (0, 1)


@pytest.mark.parametrize("budget", BUDGETS)
def test_index_add_onto_a_full_disk_is_one_line_and_the_index_still_answers(live_copy, full_disk, budget):
    index_dir, _ = live_copy
    full_disk(index_dir, budget)
    result = run_cli("index", "add", CORE_ARTICLES, "--index-dir", index_dir)
    assert_one_line_error(result, "error: no space left on device; free some space and run the command")
    found = run_cli("search", "hoa", "binh", "--index-dir", index_dir, "--json")
    assert (found.exit_code, json.loads(found.stdout)["total"]) == (0, 1)


def test_reindex_over_the_file_size_limit_is_one_line_from_a_real_process(live_copy):
    # A real write failing in the kernel (EFBIG under RLIMIT_FSIZE, with SIGXFSZ ignored) rather
    # than a simulated one; before, reindex onto a full disk printed a 51-line traceback.
    index_dir, generation = live_copy

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    completed = subprocess.run(
        [sys.executable, "-m", "searchsvc.cli", "--config", str(CLI_CONFIG), "reindex", str(CORE_ARTICLES)]
        + ["--index-dir", str(index_dir), "--quiet"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_file_size,
    )
    assert (completed.returncode, completed.stdout) == (1, "")
    assert completed.stderr == "error: file too large; free some space and run the command again\n"
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock", "CURRENT", generation.name]


def test_search_prints_an_index_holding_lone_surrogates(tmp_path):
    # Before: `searchsvc search` printed a UnicodeEncodeError traceback (issue 10 #2).
    source = tmp_path / "articles.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in SURROGATE_RECORDS), encoding="ascii")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("searchsvc.ingest.fields._encodable", lambda article: (article, []))
        reindex([source], tmp_path / "index")
    table = run_cli("search", "tin", "a", "--index-dir", tmp_path / "index")
    as_json = run_cli("search", "tin", "a", "--json", "--index-dir", tmp_path / "index")
    assert (table.exit_code, table.stderr, as_json.exit_code, as_json.stderr) == (0, "", 0, "")
    assert table.stdout.splitlines()[1] == "   1. Tin a\ufffdb Hà Nội"
    assert json.loads(as_json.stdout)["hits"][0]["title"] == "Tin a\ufffdb Hà Nội"
