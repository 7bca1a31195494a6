"""searchsvc: diacritic-insensitive Vietnamese news search on Whoosh."""

__version__ = "0.1.0"
