"""Twenty sessions at once through the app's HTTP API (loopback, bounded): no errors, no cross-talk."""

from __future__ import annotations

import statistics
import threading
import time
import uuid

import httpx
from webpage import QUESTIONS

from app.owners import browser_owner, new_token
from app.store_sqlite import SQLiteStore

SESSIONS = 20


def call(client: httpx.Client, base: str, text: str, session_id: str, *, token: str) -> tuple[dict, float]:
    """One turn through the app's JSON API as the owner `token`; returns (reply, seconds)."""
    start = time.perf_counter()
    answered = client.post(f"{base}api/chat", json={"text": text, "session_id": session_id},
                           headers={"Authorization": f"Bearer {token}"})
    answered.raise_for_status()
    return answered.json(), time.perf_counter() - start


def test_twenty_concurrent_sessions_get_their_own_answers(server_factory) -> None:
    server = server_factory().start()
    base = server.url
    limits = httpx.Timeout(60.0)
    with httpx.Client(timeout=limits) as client:  # answers given alone, to compare with answers under load
        alone = {q: call(client, base, q, uuid.uuid4().hex, token=new_token())[0]["text"] for q in QUESTIONS}
    rss_before = server.rss_mb()

    latencies: list[float] = []
    errors: list[str] = []
    exports: dict[str, str] = {}
    markers = {uuid.uuid4().hex: i for i in range(SESSIONS)}
    tokens = {session_id: new_token() for session_id in markers}  # each person is their own owner
    start = threading.Barrier(SESSIONS)

    def person(session_id: str, n: int) -> None:
        question = QUESTIONS[n % len(QUESTIONS)]
        turns = [question, f"Note for myself: my code word is {session_id[:12]}.", "/export"]
        try:
            with httpx.Client(timeout=limits) as client:
                start.wait(timeout=60)
                for i, text in enumerate(turns):
                    reply, seconds = call(client, base, text, session_id, token=tokens[session_id])
                    latencies.append(seconds)
                    assert reply["session_id"] == session_id
                    assert {"mode", "text", "citations", "choices", "state"} <= reply.keys()
                    if i == 0 and reply["text"] != alone[question]:
                        errors.append(f"session {n}: a different answer under load")
                exports[session_id] = reply["state"]["export"]
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(f"session {n}: {exc!r}")

    threads = [threading.Thread(target=person, args=(sid, n)) for sid, n in markers.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert len(latencies) == SESSIONS * 3

    # No cross-talk: each conversation holds its own words and nobody else's.
    for session_id, n in markers.items():
        own = exports[session_id]
        assert session_id[:12] in own and QUESTIONS[n % len(QUESTIONS)] in own
        assert not [other for other in markers if other != session_id and other[:12] in own]
    store = SQLiteStore(path=server.data_dir / "sessions.db")
    for session_id, n in markers.items():
        said = [m.body["text"] for m in store.messages(owner=browser_owner(tokens[session_id]), session_id=session_id)
                if m.body["role"] == "user"]
        assert said == [QUESTIONS[n % len(QUESTIONS)], f"Note for myself: my code word is {session_id[:12]}.", "/export"]

    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(f"\n{SESSIONS} concurrent sessions, {len(latencies)} turns: median {statistics.median(ordered) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms; server RSS {rss_before:.0f} MB before, "
          f"{server.rss_mb():.0f} MB after")
