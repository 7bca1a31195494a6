"""A node for the OpenSearch tests: the URL in SEARCHSVC_TEST_OPENSEARCH_URL, else the tests skip.

Import ``opensearch_url`` from a test module to use it (conftest.py gets the shared one at merge).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    """Return the URL of a running OpenSearch node, or skip with the reason."""
    url = os.environ.get("SEARCHSVC_TEST_OPENSEARCH_URL", "")
    if not url:
        pytest.skip("no OpenSearch node: set SEARCHSVC_TEST_OPENSEARCH_URL (scripts/opensearch-local start)")
    return url
