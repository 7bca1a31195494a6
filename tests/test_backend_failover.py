"""Failover: two nodes, one replica, one node killed with SIGKILL while 8 clients search through searchsvc.

Searches must keep answering: during the switch an error may only be a 503 JSON
``backend_unavailable`` (never a 500), and from 10 s after the kill every request
succeeds. The test prints what it saw (run with ``-s``): requests, errors during
the switch and the time from the kill to the last error.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, replace

import pytest

from searchsvc.config import Settings
from searchsvc.demo import demo_sources

pytestmark = pytest.mark.opensearch

CLIENTS = 8
BEFORE_KILL_SECONDS = 3.0
AFTER_KILL_SECONDS = 15.0
RECOVERY_SECONDS = 10.0
# A bound on the whole run: the clients stop by themselves, this only catches a hang.
JOIN_SECONDS = 120.0
QUERIES = ("ha noi", "bão", "Đà Nẵng", '"thông tin"', "bao lut", "thủ tướng", "giá vàng", "UBND")


@dataclass(frozen=True)
class Outcome:
    """One request: when it ended (seconds after the kill), its status and error code."""

    at: float
    status: int
    code: str | None


def _client_loop(
    app, number: int, kill: threading.Event, killed_at: list[float], stop: float, out: list
) -> None:
    """Search until ``stop`` (monotonic), noting each outcome relative to the kill."""
    client = app.test_client()
    turn = number
    while time.monotonic() < stop:
        q = QUERIES[turn % len(QUERIES)]
        turn += 1
        answer = client.get("/api/search", query_string={"q": q, "page": str(1 + turn % 3)})
        body = answer.get_json(silent=True) or {}
        code = (body.get("error") or {}).get("code") if answer.status_code != 200 else None
        at = time.monotonic() - killed_at[0] if kill.is_set() else -1.0
        out.append(Outcome(at, answer.status_code, code))


def test_searches_survive_a_node_killed_with_sigkill(opensearch_cluster2, demo_settings: Settings) -> None:
    from searchsvc.opensearch.indexing import reindex
    from searchsvc.web import STORE_KEY, create_app

    cluster = opensearch_cluster2
    alias = f"failover_{uuid.uuid4().hex[:8]}"
    urls = ",".join(f"http://127.0.0.1:{port}" for _, _, port in cluster.nodes())
    settings = replace(
        demo_settings,
        backend=replace(demo_settings.backend, kind="opensearch", url=urls, index=alias, replicas=1),
    )
    reindex(settings, [str(p) for p in demo_sources()])
    app = create_app(settings)
    kill = threading.Event()
    killed_at = [0.0]
    outcomes: list[Outcome] = []
    stop = time.monotonic() + BEFORE_KILL_SECONDS + AFTER_KILL_SECONDS
    threads = [
        threading.Thread(target=_client_loop, args=(app, n, kill, killed_at, stop, outcomes))
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(BEFORE_KILL_SECONDS)
    victim = cluster.nodes()[0][0]
    killed_at[0] = time.monotonic()
    cluster.kill(victim)
    kill.set()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not any(t.is_alive() for t in threads), "a client hung"
    app.extensions[STORE_KEY].close()
    errors = [o for o in outcomes if o.status != 200]
    after = [o for o in outcomes if o.at >= RECOVERY_SECONDS]
    recovered = max((o.at for o in errors), default=0.0)
    print(
        f"\nfailover: {len(outcomes)} requests, {len(errors)} errors "
        f"({sorted({(o.status, o.code) for o in errors})}), last error {recovered:.2f} s after the kill, "
        f"{len(after)} requests from {RECOVERY_SECONDS:.0f} s on"
    )
    assert {(o.status, o.code) for o in errors} <= {(503, "backend_unavailable")}
    assert after and all(o.status == 200 for o in after)
    assert all(o.status == 200 for o in outcomes if o.at < 0), "errors before the kill"
