"""The OpenSearch backend: index mapping and analyzers, client and error map, indexing.

Sits on the level of the indexer and the store: it imports ``text``, ``analysis``
tables, ``schema``, ``ingest`` and ``lexicon``, never ``web`` or ``cli``.
"""
