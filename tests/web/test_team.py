"""A team's deployment on real parts, on loopback: PostgreSQL, a Chroma server, `steady serve` workers and
nginx (deploy/nginx.conf) in front of them. `./test.sh -m deploy` runs these."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from standin_model import CITED, StandInModel
from team_parts import ChromaServer, Nginx
from webpage import ARTIFACTS, QUESTIONS, Server

from app.owners import browser_owner, new_token
from app.store_postgres import PostgresStore

pytestmark = pytest.mark.deploy


def steady(*args: str, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "steady"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def team(postgres, models_dir: Path, tmp_path_factory):
    """The shared parts, the index ingested once into the Chroma server, and the workers' environment."""
    folder = tmp_path_factory.mktemp("team")
    data = folder / "data"
    data.mkdir()
    (data / "models").symlink_to(models_dir, target_is_directory=True)
    chroma = ChromaServer()
    env = {**Server(data_dir=data).env, "STEADY_DATABASE_URL": postgres.database(), "STEADY_CHROMA_URL": chroma.url,
           "STEADY_INDEX_CHECK_SECONDS": "1"}
    built = steady("ingest", env=env)
    assert built.returncode == 0, built.stderr[-2000:]
    yield {"env": env, "data": data, "folder": folder, "chroma": chroma}
    chroma.stop()


@pytest.fixture(scope="module")
def workers(team):
    started = [Server(data_dir=team["data"], env=team["env"], name=f"worker-{n}").start() for n in (1, 2)]
    yield started
    for worker in started:
        worker.stop()


def turn(client: httpx.Client, base: str, text: str, session_id: str, token: str) -> tuple[httpx.Response, float]:
    began = time.perf_counter()
    answered = client.post(f"{base}api/chat", json={"text": text, "session_id": session_id},
                           headers={"Authorization": f"Bearer {token}"})
    return answered, time.perf_counter() - began


def stored(url: str, session_id: str, token: str) -> list[dict]:
    store = PostgresStore(url=url)
    try:
        return [m.body for m in store.messages(session_id=session_id, owner=browser_owner(token))]
    finally:
        store.close()


def test_the_eval_suite_passes_on_postgres_and_the_chroma_server(team, tmp_path) -> None:
    result = steady("eval", "--out", str(tmp_path), env=team["env"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] and report["store"].startswith("PostgreSQL")
    assert report["figures"]["dialogues"] >= 50
    with psycopg.connect(team["env"]["STEADY_DATABASE_URL"]) as conn:  # the run's conversations are gone again
        assert conn.execute("SELECT COUNT(*) FROM sessions WHERE owner LIKE 'eval:%'").fetchone()[0] == 0


def load(base: str, sessions: int) -> dict:
    """`sessions` people at once through `base`, three turns each; latencies, errors and cross-talk."""
    latencies: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(sessions)
    people = {uuid.uuid4().hex: new_token() for _ in range(sessions)}

    def person(n: int, session_id: str, token: str) -> None:
        try:
            with httpx.Client(timeout=120) as client:
                start.wait(timeout=60)
                for text in (QUESTIONS[n % len(QUESTIONS)], f"Note for myself: my code word is {session_id[:12]}.",
                             "/export"):
                    answered, seconds = turn(client, base, text, session_id, token)
                    answered.raise_for_status()
                    latencies.append(seconds)
                export = answered.json()["state"]["export"]
                if session_id[:12] not in export or any(other[:12] in export for other in people if other != session_id):
                    errors.append(f"session {n}: another conversation's words, or its own missing")
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
            errors.append(f"session {n}: {exc!r}")

    threads = [threading.Thread(target=person, args=(n, sid, tok)) for n, (sid, tok) in enumerate(people.items())]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    ordered = sorted(latencies)
    return {"errors": errors, "turns": len(latencies), "p50_ms": round(statistics.median(ordered) * 1000),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000)}


def test_twenty_and_fifty_sessions_through_nginx_with_one_and_two_workers(workers) -> None:
    figures = {}
    for count in (1, 2):
        proxy = Nginx(workers=workers[:count])
        try:
            for sessions in (20, 50):
                found = load(proxy.url, sessions)
                assert found["errors"] == [] and found["turns"] == 3 * sessions, found["errors"][:3]
                figures[f"{sessions} sessions, {count} worker{'s' * (count > 1)}"] = found
        finally:
            proxy.stop()
    figures["worker RSS MB"] = [round(w.rss_mb()) for w in workers]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "team-load.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print("\n" + json.dumps(figures, indent=2))


def test_two_workers_writing_one_conversation_never_interleave_turns(workers, team) -> None:
    session_id, token = uuid.uuid4().hex, new_token()
    said: list[tuple[str, str]] = []

    def writer(worker: Server, n: int) -> None:
        with httpx.Client(timeout=120) as client:
            for i in range(5):
                text = f"{QUESTIONS[(n + i) % len(QUESTIONS)]} (writer {n}, turn {i})"
                answered, _ = turn(client, worker.url, text, session_id, token)
                answered.raise_for_status()
                said.append((text, answered.json()["text"]))

    threads = [threading.Thread(target=writer, args=(workers[n % 2], n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    messages = stored(team["env"]["STEADY_DATABASE_URL"], session_id, token)
    assert [m["role"] for m in messages] == ["user", "steady"] * 20  # never two questions, then two answers
    pairs = [(messages[i]["text"], messages[i + 1]["text"]) for i in range(0, 40, 2)]
    assert sorted(pairs) == sorted(said)  # each answer stored right after the question it answered


def test_a_worker_killed_mid_turn_loses_nothing_acknowledged_and_the_other_carries_on(team, tmp_path) -> None:
    model = StandInModel()
    env = {**team["env"], "STEADY_LLM": "openai:stand-in", "OPENAI_BASE_URL": model.base_url, "STEADY_LLM_TIMEOUT": "60"}
    pair = [Server(data_dir=team["data"], env=env, name=f"model-worker-{n}").start() for n in (1, 2)]
    proxy = Nginx(workers=pair)
    session_id, token = uuid.uuid4().hex, new_token()
    try:
        with httpx.Client(timeout=120) as client:
            acknowledged = []
            for text in QUESTIONS[:2]:
                answered, _ = turn(client, proxy.url, text, session_id, token)
                assert answered.status_code == 200
                acknowledged.append((text, answered.json()["text"]))
            serving = answered.headers["x-test-worker"]  # this person's requests keep to one worker
            victim = next(w for w in pair if serving.endswith(f":{w.port}"))

            model.stall.set()  # the next answer stops after its first words...
            cut = threading.Thread(target=turn, args=(client, proxy.url, QUESTIONS[2], session_id, token))
            cut.start()
            deadline = time.monotonic() + 60
            while len(stored(team["env"]["STEADY_DATABASE_URL"], session_id, token)) < 6 and time.monotonic() < deadline:
                time.sleep(0.1)
            victim.kill()  # ...and its worker dies mid-answer
            cut.join(timeout=60)
            model.stall.clear()

            messages = stored(team["env"]["STEADY_DATABASE_URL"], session_id, token)
            assert [(m["text"], n["text"]) for m, n in zip(messages[:4:2], messages[1:4:2], strict=True)] == acknowledged
            assert messages[4]["text"] == QUESTIONS[2] and messages[5]["text"].startswith("The guidance suggests")  # shown, kept

            again, _ = turn(client, proxy.url, QUESTIONS[3], session_id, token)  # through the other worker
            assert again.status_code == 200 and again.headers["x-test-worker"] != serving
            assert again.json()["text"].startswith(CITED[0].strip())
            history = client.get(f"{proxy.url}api/sessions/{session_id}", headers={"Authorization": f"Bearer {token}"})
            assert [m["text"] for m in history.json()["messages"]][::2] == QUESTIONS[:4]
    finally:
        proxy.stop()
        for worker in pair:
            worker.stop()
        model.close()


def test_a_new_index_version_reaches_running_workers_without_a_restart(team, workers) -> None:
    extra = team["folder"] / "more-guidance"
    extra.mkdir()
    (extra / "quiet-hours.md").write_text(
        "# Quiet hours for on-call rotations\n\n## The zebra rule\n\nThe zebra rule keeps two evenings a week free of "
        "pages for everyone on an ML on-call rotation, and the team lead guards them.\n", encoding="utf-8")
    with httpx.Client(timeout=60) as client:
        asked = {"text": "What is the zebra rule for on-call evenings?"}
        token = new_token()
        headers = {"Authorization": f"Bearer {token}"}
        first = client.post(f"{workers[0].url}api/chat", json=asked, headers=headers).json()
        assert all(c["doc_id"] != "quiet-hours" for c in first["citations"])
        built = steady("ingest", "--corpus", str(extra), env=team["env"])
        assert built.returncode == 0, built.stderr[-2000:]
        deadline = time.monotonic() + 60
        waiting = list(workers)
        while waiting and time.monotonic() < deadline:
            time.sleep(1)
            waiting = [w for w in waiting if all(c["doc_id"] != "quiet-hours" for c in client.post(
                f"{w.url}api/chat", json=asked, headers=headers).json()["citations"])]
    assert waiting == []  # every worker answers from the new passage
    assert all("answering from the new index version" in w.log.read_text() for w in workers)
