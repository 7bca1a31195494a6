"""searchsvc: diacritic-insensitive Vietnamese news search on Whoosh."""

# The one place the version is written: pyproject.toml reads it, CHANGELOG.md explains it.
__version__ = "0.1.0"
