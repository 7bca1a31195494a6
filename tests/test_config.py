"""Settings: defaults, a TOML file, SEARCHSVC_* environment variables, explicit overrides, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchsvc.config import IndexSettings, SearchSettings, ServerSettings, Settings, load_settings
from searchsvc.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    """Write a TOML file and return its path."""
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}) == Settings()
    assert Settings().index_dir == Path("index")


def test_shipped_file_equals_the_defaults():
    assert load_settings(REPO / "config" / "searchsvc.toml", environ={}) == Settings()


def test_toml_file(tmp_path):
    path = write(
        tmp_path, '[index]\ndir = "/srv/idx"\nprocs = 4\n[search]\ntitle_weight = 5\n[server]\nport = 9000\n'
    )
    assert load_settings(path, environ={}) == Settings(
        index=IndexSettings(dir="/srv/idx", procs=4),
        search=SearchSettings(title_weight=5.0),
        server=ServerSettings(port=9000),
    )


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, "[server]\nport = 9000\nworkers = 3\n")
    settings = load_settings(
        path,
        environ={
            "SEARCHSVC_SERVER_PORT": "9100",
            "SEARCHSVC_INDEX_LOCK_TIMEOUT": "0.5",
            "SEARCHSVC_SEARCH_PER_PAGE": "20",
            "SEARCHSVC_UNRELATED": "x",
        },
    )
    assert (
        settings.server.port,
        settings.server.workers,
        settings.index.lock_timeout,
        settings.search.per_page,
    ) == (
        9100,
        3,
        0.5,
        20,
    )


def test_config_path_from_the_environment(tmp_path):
    path = write(tmp_path, "[index]\nkeep_generations = 5\n")
    assert load_settings(environ={"SEARCHSVC_CONFIG": str(path)}).index.keep_generations == 5


def test_explicit_overrides_win(tmp_path):
    path = write(tmp_path, '[index]\ndir = "a"\n')
    settings = load_settings(path, environ={"SEARCHSVC_INDEX_DIR": "b"}, overrides={"index": {"dir": "c"}})
    assert settings.index.dir == "c"


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("[index]\ncolour = 3\n", {}, "unknown setting index.colour"),
        ("[indexes]\ndir = 'x'\n", {}, "unknown section(s) ['indexes']"),
        ("[server]\nport = 'eighty'\n", {}, "server.port: 'eighty' is not a valid int"),
        ("[search]\ntitle_weight = 'heavy'\n", {}, "search.title_weight: 'heavy' is not a valid float"),
        ("", {"SEARCHSVC_SERVER_WORKERS": "two"}, "server.workers: 'two' is not a valid int"),
        ("[index\n", {}, "settings.toml"),
    ],
)
def test_errors(tmp_path, text, environ, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), environ=environ)
    assert message in str(caught.value)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml", environ={})
    assert str(caught.value) == f"config file not found: {tmp_path / 'nope.toml'}"


def test_a_section_must_be_a_table(tmp_path):
    with pytest.raises(ConfigError):
        load_settings(write(tmp_path, 'index = "x"\n'), environ={})


def test_a_list_is_not_a_number(tmp_path):
    with pytest.raises(ConfigError):
        load_settings(write(tmp_path, "[server]\nport = [1, 2]\n"), environ={})


@pytest.mark.parametrize(
    "text",
    [
        "[server]\nport = 80.5\n",  # int() would silently cut it to 80
        "[server]\nport = true\n",  # int(True) is 1
        "[index]\ndir = 5\n",  # str(5) would silently become a directory name
        "[index]\ndir = ['a', 'b']\n",
    ],
)
def test_wrong_toml_types_are_errors(tmp_path, text):
    with pytest.raises(ConfigError):
        load_settings(write(tmp_path, text), environ={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nmax_request_bytes = 0\n", "server.max_request_bytes: 0 is below the minimum 1024"),
        ("[server]\nthreads = 0\n", "server.threads: 0 is below the minimum 1"),
        ("[server]\nheader_timeout = 0\n", "server.header_timeout: 0.0 is below the minimum 0.1"),
        ("[index]\nmax_article_chars = -1\n", "index.max_article_chars: -1 is below the minimum 1000"),
    ],
)
def test_limits_cannot_be_switched_off(tmp_path, text, message):
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, text), environ={})
    assert str(error.value) == message


def test_limits_cannot_be_switched_off_from_the_environment():
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"SEARCHSVC_SERVER_MAX_REQUEST_BYTES": "0"})
    assert str(error.value) == "server.max_request_bytes: 0 is below the minimum 1024"
