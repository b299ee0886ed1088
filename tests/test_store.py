"""The session database, on a real SQLite file and on a real PostgreSQL server (the `deploy` marker):
persistence, migrations, concurrency, deletion."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from app.store import StoreError, open_store
from app.store_sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore

ME = "browser:" + "0" * 40  # the owner of every session in these tests (tests/test_owners.py has two)


def user(text: str) -> dict:
    return {"role": "user", "text": text, "mode": "ask"}


def steady(text: str, **extra) -> dict:
    return {"role": "steady", "text": text, "mode": "ask", "citations": [], "choices": [], "state": {}, **extra}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.deploy)])
def stores(request, tmp_path: Path):
    """Opens the store under test, again and again on the same database (a new process would)."""
    url = request.getfixturevalue("postgres").database() if request.param == "postgres" else ""
    opened = []

    def open_again():
        opened.append(open_store(data_dir=tmp_path, database_url=url))
        return opened[-1]

    yield open_again
    for store in opened:
        store.close()


def test_messages_and_state_survive_reopening(stores) -> None:
    store = stores()
    assert store.add_message(owner=ME, session_id="a" * 32, body=user("should I quit or transfer?")) == 0
    assert store.add_message(owner=ME, session_id="a" * 32, body=steady("Here is what the guidance says")) == 1
    store.save_session(owner=ME, session_id="a" * 32, mode="checkin", state={"checkin": {"step": "probe"}})
    store.close()

    again = stores()
    assert [m.body["text"] for m in again.messages(owner=ME, session_id="a" * 32)] == [
        "should I quit or transfer?", "Here is what the guidance says"]
    assert again.session(owner=ME, session_id="a" * 32) == {
        "session_id": "a" * 32, "mode": "checkin", "state": {"checkin": {"step": "probe"}},
        "title": "should I quit or transfer?"}
    assert again.session(owner=ME, session_id="b" * 32) is None
    assert [s.session_id for s in again.sessions(owner=ME)] == ["a" * 32]


def test_the_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    SQLiteStore(path=tmp_path / "sessions.db").close()
    assert sqlite3.connect(tmp_path / "sessions.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(("first", "title"), [
    ("I feel like everything I do is pointless at work and my manager never listens",
     "I feel like everything I do is pointless at work and my…"),
    ("  short  and\nsweet ", "short and sweet"),
    ("我觉得工作没有意义" * 10, ("我觉得工作没有意义" * 10)[:59] + "…"),  # no spaces: cut by characters
])
def test_a_session_title_is_the_first_message_cut_on_a_word(stores, first: str, title: str) -> None:
    store = stores()
    store.add_message(owner=ME, session_id="a" * 32, body=user(first))
    assert store.sessions(owner=ME)[0].title == title


def test_a_streamed_reply_is_updated_in_place_and_marked_complete(stores) -> None:
    store = stores()
    store.add_message(owner=ME, session_id="s" * 32, body=user("hi"))
    seq = store.add_message(owner=ME, session_id="s" * 32, body=steady("Here is", interrupted=True), complete=False)
    assert store.messages(owner=ME, session_id="s" * 32)[-1].complete is False
    store.update_message(owner=ME, session_id="s" * 32, seq=seq, body=steady("Here is the whole answer"), complete=True)
    last = store.messages(owner=ME, session_id="s" * 32)[-1]
    assert (last.seq, last.body["text"], last.complete) == (1, "Here is the whole answer", True)


def test_thumbs_are_stored_on_answers_only(stores) -> None:
    store = stores()
    store.add_message(owner=ME, session_id="t" * 32, body=user("hi"))
    store.add_message(owner=ME, session_id="t" * 32, body=steady("hello"))
    assert store.set_feedback(owner=ME, session_id="t" * 32, seq=1, feedback="down") is True
    assert store.set_feedback(owner=ME, session_id="t" * 32, seq=0, feedback="up") is False  # the person's own message
    assert [m.feedback for m in store.messages(owner=ME, session_id="t" * 32)] == [None, "down"]
    store.set_feedback(owner=ME, session_id="t" * 32, seq=1, feedback=None)
    assert store.messages(owner=ME, session_id="t" * 32)[1].feedback is None
    with pytest.raises(ValueError):
        store.set_feedback(owner=ME, session_id="t" * 32, seq=1, feedback="meh")


def test_an_older_schema_is_migrated_and_keeps_its_history(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:  # a database written by the first release
        old.execute(statement)
    old.execute("PRAGMA user_version = 1")
    old.execute("INSERT INTO sessions (id, created, updated, title, mode, state) VALUES ('o', 1, 2, 'old', 'ask', '{}')")
    old.execute("INSERT INTO messages (session_id, seq, role, body, complete, created) "
                "VALUES ('o', 0, 'user', '{\"role\": \"user\", \"text\": \"from v1\"}', 1, 1)")
    old.execute("INSERT INTO messages (session_id, seq, role, body, complete, created) "
                "VALUES ('o', 1, 'steady', '{\"role\": \"steady\", \"text\": \"answer\"}', 1, 1)")
    old.commit()
    old.close()

    store = SQLiteStore(path=path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # Sessions from before owners are kept, and are nobody's: no browser or user sees them.
    assert store.owner_of(session_id="o") == ""
    assert store.sessions(owner=ME) == [] and store.messages(owner=ME, session_id="o") == []
    assert [m.body["text"] for m in store.messages(owner="", session_id="o")] == ["from v1", "answer"]
    assert store.set_feedback(owner="", session_id="o", seq=1, feedback="up")  # the column added by migration 2
    assert store.sessions(owner="")[0].title == "old"


def test_a_database_from_a_newer_steady_is_refused_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    SQLiteStore(path=path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer Steady"):
        SQLiteStore(path=path)


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "sessions.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="Could not open the session database"):
        SQLiteStore(path=path)


def test_concurrent_writers_from_threads_lose_nothing(stores) -> None:
    store = stores()
    writers, turns = 12, 40
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(turns):
                sid = f"{n:032x}"
                store.add_message(owner=ME, session_id=sid, body=user(f"writer {n} message {i}"))
                store.add_message(owner=ME, session_id=sid, body=steady(f"reply {n}.{i}"))
                store.save_session(owner=ME, session_id=sid, mode="ask", state={"turns": i + 1})
                if i % 10 == 0:
                    store.sessions(owner=ME)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store.close()

    again = stores()
    for n in range(writers):
        messages = again.messages(owner=ME, session_id=f"{n:032x}")
        assert [m.seq for m in messages] == list(range(2 * turns))
        assert [m.body["text"] for m in messages[::2]] == [f"writer {n} message {i}" for i in range(turns)]
        assert again.session(owner=ME, session_id=f"{n:032x}")["state"] == {"turns": turns}


def test_delete_everything_leaves_no_trace_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path=path)
    secret = "my manager ignores the drift alerts zebra-42"
    store.add_message(owner=ME, session_id="d" * 32, body=user(secret))
    store.save_session(owner=ME, session_id="d" * 32, mode="ask", state={"note": secret})
    store.delete_everything()
    assert store.sessions(owner=ME) == []
    assert store.messages(owner=ME, session_id="d" * 32) == []
    assert store.session(owner=ME, session_id="d" * 32) is None
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db"))
    assert b"zebra-42" not in on_disk
    store.add_message(owner=ME, session_id="e" * 32, body=user("a fresh start"))  # still usable afterwards
    assert len(store.sessions(owner=ME)) == 1


def test_one_turn_at_a_time_per_session_however_many_stores_share_it(stores) -> None:
    """Two stores on one database stand for two workers: a turn on a session waits for the other's."""
    first, second = stores(), stores()
    order: list[str] = []
    inside = threading.Event()

    def turn(store, name: str) -> None:
        with store.turn_lock("c" * 32):
            order.append(f"{name} in")
            inside.set()
            time.sleep(0.3)
            order.append(f"{name} out")

    a = threading.Thread(target=turn, args=(first, "a"))
    a.start()
    assert inside.wait(10)
    b = threading.Thread(target=turn, args=(second, "b"))
    b.start()
    with second.turn_lock("d" * 32):  # another session is not held up
        assert order == ["a in"]
    a.join()
    b.join()
    assert order == ["a in", "a out", "b in", "b out"]


@pytest.mark.deploy
def test_a_postgres_database_from_a_newer_steady_is_refused(postgres) -> None:
    import psycopg

    url = postgres.database()
    open_store(data_dir=Path("/nonexistent"), database_url=url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE steady_schema SET version = version + 1")
    with pytest.raises(StoreError, match="newer Steady"):
        open_store(data_dir=Path("/nonexistent"), database_url=url)


@pytest.mark.deploy
def test_an_unreachable_database_gets_a_clear_error(postgres) -> None:
    from app.server import free_port

    with pytest.raises(StoreError, match=r"can't reach its database at 127\.0\.0\.1:\d+/steady"):
        open_store(data_dir=Path("/nonexistent"), database_url=f"postgresql://steady@127.0.0.1:{free_port()}/steady")
