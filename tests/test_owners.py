"""Who a request is (app/owners.py) and what each owner may touch in the store (app/store.py): no server.

Browser tokens, STEADY_AUTH, the users file, signed sign-in cookies, the sign-in limiter, and the
session database on a real SQLite file with two owners who must never see or change each other's
conversations.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from app.owners import (
    LOGIN_FAILURES,
    LOGIN_WINDOW_SECONDS,
    SIGN_IN_DAYS,
    LoginLimiter,
    SignIns,
    Users,
    browser_owner,
    new_token,
    parse_auth_env,
    server_key,
    user_owner,
)
from app.store import NotYourSession
from app.store_sqlite import SQLiteStore

TOKEN_A = "A" * 20 + "_-" + "b" * 20  # 42 URL-safe characters
TOKEN_B = new_token()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def user(text: str) -> dict:
    return {"role": "user", "text": text, "mode": "ask"}


def steady(text: str) -> dict:
    return {"role": "steady", "text": text, "mode": "ask", "citations": [], "choices": [], "state": {}}


@pytest.fixture
def loose_umask():
    """A umask that would leave files world-readable: what Store must tighten by itself."""
    before = os.umask(0o022)
    yield
    os.umask(before)


# --- browser tokens --------------------------------------------------------------------------------

def test_a_browser_token_must_be_32_to_128_url_safe_characters() -> None:
    for bad in ("", "short", "a" * 31, "a" * 129, "a" * 31 + "=", "a" * 31 + "+", "a" * 31 + "/",
                "a" * 20 + " " + "a" * 20, "a" * 20 + "." + "a" * 20, "é" * 40, "a" * 40 + "\n",
                "a" * 20 + "%00" + "a" * 20):
        assert browser_owner(bad) is None, bad
    for bad in (None, b"a" * 40, 12345678901234567890123456789012345, ["a" * 40]):
        assert browser_owner(bad) is None, bad
    for good in ("a" * 32, "Z" * 128, TOKEN_A, TOKEN_B):
        assert browser_owner(good) is not None, good


def test_a_browser_owner_is_a_stable_hash_that_does_not_contain_the_token() -> None:
    owner = browser_owner(TOKEN_A)
    assert owner == browser_owner(TOKEN_A)  # the same browser is the same owner on every request
    assert owner.startswith("browser:") and len(owner) == len("browser:") + 40
    assert all(c in "0123456789abcdef" for c in owner.removeprefix("browser:"))
    assert TOKEN_A not in owner and TOKEN_A[:16] not in owner
    assert browser_owner(TOKEN_B) != owner
    assert browser_owner(TOKEN_A.lower()) != owner  # case matters: a token is not a user name
    assert new_token() != new_token() and browser_owner(new_token()) is not None


def test_the_database_never_holds_the_token(tmp_path: Path) -> None:
    store = SQLiteStore(path=tmp_path / "sessions.db")
    store.add_message(session_id="a" * 32, owner=browser_owner(TOKEN_A), body=user("is my token kept?"))
    store.close()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("sessions.db*"))
    assert browser_owner(TOKEN_A).encode() in on_disk  # the hash is what is kept
    assert TOKEN_A.encode() not in on_disk and TOKEN_A[:16].encode() not in on_disk


# --- STEADY_AUTH --------------------------------------------------------------------------------------

def test_steady_auth_with_two_pairs_is_two_users() -> None:
    assert parse_auth_env("alice:pw1,bob:pw2") == {"alice": "pw1", "bob": "pw2"}
    assert parse_auth_env(" alice:pw1 , bob:pw2 ,") == {"alice": "pw1", "bob": "pw2"}
    assert parse_auth_env("ann@example.com:p:w:x") == {"ann@example.com": "p:w:x"}  # only the first colon splits


@pytest.mark.parametrize("value", ["", ",", " , ", "only-a-user", ":pw", "alice:", "alice:pw,bob",
                                   "bad name:pw", "alice:pw,:x", "-alice:pw", "al/ice:pw", "a" * 65 + ":pw"])
def test_a_malformed_steady_auth_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_auth_env(value)


# --- the users file -----------------------------------------------------------------------------------

def test_users_are_added_checked_and_removed_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "users.json"
    users = Users(path=path)
    assert not users and users.names() == []
    users.add("alice", "correct horse")
    users.add("bob", "battery staple")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    stored = json.loads(path.read_text())["users"]
    assert sorted(stored) == ["alice", "bob"]
    assert all(h.startswith("$argon2") for h in stored.values())
    assert "correct horse" not in path.read_text() and "battery staple" not in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["users.json"]  # no temporary file left behind

    assert users.check("alice", "correct horse") and users.check("bob", "battery staple")
    assert not users.check("alice", "battery staple")  # someone else's password
    assert not users.check("alice", "correct horse ") and not users.check("alice", "")
    assert not users.check("Alice", "correct horse")
    assert not users.check("carol", "correct horse")  # unknown user
    assert Users(path=path).check("alice", "correct horse")  # another process reads the same file

    users.add("alice", "a new passphrase")  # a changed password replaces the old one
    assert users.check("alice", "a new passphrase") and not users.check("alice", "correct horse")
    assert users.remove("alice") is True and users.remove("alice") is False
    assert not users.check("alice", "a new passphrase") and users.names() == ["bob"]
    assert mode(path) == 0o600


def test_bad_user_names_and_short_passwords_are_refused(tmp_path: Path) -> None:
    users = Users(path=tmp_path / "users.json")
    for name in ("", "a b", "-x", "a/b", "a" * 65, "alice:x"):
        with pytest.raises(ValueError):
            users.add(name, "long enough")
    with pytest.raises(ValueError):
        users.add("alice", "short")
    assert not (tmp_path / "users.json").exists()


def test_steady_auth_users_sign_in_beside_the_file_and_are_never_written(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    users = Users(path=path, extra=parse_auth_env("alice:pw-alice-1,bob:pw-bob-22"))
    assert users.names() == ["alice", "bob"]
    assert users.check("alice", "pw-alice-1") and users.check("bob", "pw-bob-22")
    assert not users.check("alice", "pw-bob-22") and not users.check("bob", "pw-alice-1")
    assert not path.exists()


def test_the_server_key_is_made_once_and_private(tmp_path: Path) -> None:
    key = server_key(tmp_path / "data")
    assert len(key) == 32 and server_key(tmp_path / "data") == key
    assert mode(tmp_path / "data" / "server-key") == 0o600 and mode(tmp_path / "data") == 0o700
    assert server_key(tmp_path / "other") != key


# --- signed sign-in cookies ---------------------------------------------------------------------------

def test_a_sign_in_cookie_reads_back_its_user() -> None:
    signs = SignIns(key=b"k" * 32)
    for name in ("alice", "ann@example.com", "a.b.c", "x-1_2"):
        assert signs.read(signs.issue(name)) == name
    assert user_owner("alice") == "user:alice"


def test_a_tampered_foreign_or_expired_sign_in_cookie_is_nobody() -> None:
    signs = SignIns(key=b"k" * 32)
    cookie = signs.issue("alice", now=1_000_000)
    name, expiry, signature = cookie.rsplit(".", 2)
    assert signs.read(cookie, now=1_000_001) == "alice"
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for bad in (f"bob.{expiry}.{signature}", f"{name}.{int(expiry) + 86400}.{signature}", f"{name}.{expiry}.{flipped}",
                f"{name}.{expiry}.", f"{name}.{expiry}", name, "", ".", "..", "alice.x.y", cookie + "0",
                f"{name}.-{expiry}.{signature}"):
        assert signs.read(bad, now=1_000_001) is None, bad
    assert SignIns(key=b"q" * 32).read(cookie, now=1_000_001) is None  # another server's key
    assert signs.read(cookie, now=1_000_000 + SIGN_IN_DAYS * 86400 - 1) == "alice"
    assert signs.read(cookie, now=1_000_000 + SIGN_IN_DAYS * 86400 + 1) is None  # expired


# --- the sign-in limiter ------------------------------------------------------------------------------

def test_the_limiter_refuses_after_five_failures_and_allows_after_the_window() -> None:
    limiter = LoginLimiter()
    assert LOGIN_FAILURES == 5 and LOGIN_WINDOW_SECONDS == 300
    keys = ("addr:127.0.0.1", "user:alice")
    for i in range(LOGIN_FAILURES):
        assert limiter.retry_after(*keys, now=100.0 + i) == 0, i
        limiter.failed(*keys, now=100.0 + i)
    wait = limiter.retry_after(*keys, now=110.0)
    assert 0 < wait <= LOGIN_WINDOW_SECONDS and wait == pytest.approx(LOGIN_WINDOW_SECONDS - 10)
    # Either key alone is refused: another user from this address, or this user from elsewhere.
    assert limiter.retry_after("addr:127.0.0.1", "user:bob", now=110.0) > 0
    assert limiter.retry_after("addr:127.0.0.9", "user:alice", now=110.0) > 0
    assert limiter.retry_after("addr:127.0.0.9", "user:bob", now=110.0) == 0
    # The window slides: once the first failure is older than the window, one more attempt is allowed.
    assert limiter.retry_after(*keys, now=100.0 + LOGIN_WINDOW_SECONDS + 0.5) == 0
    assert limiter.retry_after(*keys, now=104.0 + LOGIN_WINDOW_SECONDS + 1) == 0


# --- the store with two owners ------------------------------------------------------------------------

ALICE = browser_owner(TOKEN_A)
BOB = user_owner("bob")
A1, A2, B1 = "a" * 32, "c" * 32, "b" * 32


@pytest.fixture
def two_owners(tmp_path: Path) -> SQLiteStore:
    store = SQLiteStore(path=tmp_path / "sessions.db")
    store.add_message(session_id=A1, owner=ALICE, body=user("alice's first worry"))
    store.add_message(session_id=A1, owner=ALICE, body=steady("an answer for alice"))
    store.save_session(session_id=A1, owner=ALICE, mode="checkin", state={"secret": "alice-state"})
    store.add_message(session_id=A2, owner=ALICE, body=user("alice's second worry"))
    store.add_message(session_id=B1, owner=BOB, body=user("bob's only worry"))
    store.add_message(session_id=B1, owner=BOB, body=steady("an answer for bob"))
    yield store
    store.close()


def rows(store: SQLiteStore) -> list[tuple]:
    with sqlite3.connect(store.path) as conn:
        return (conn.execute("SELECT id, owner, title, mode, state, updated FROM sessions ORDER BY id").fetchall()
                + conn.execute("SELECT session_id, seq, body, feedback FROM messages ORDER BY session_id, seq").fetchall())


def test_each_owner_sees_only_their_own_sessions_and_messages(two_owners: SQLiteStore) -> None:
    store = two_owners
    assert {s.session_id for s in store.sessions(owner=ALICE)} == {A1, A2}
    assert [s.session_id for s in store.sessions(owner=BOB)] == [B1]
    assert store.sessions(owner=user_owner("carol")) == [] and store.sessions(owner="") == []
    assert store.session(session_id=A1, owner=ALICE)["state"] == {"secret": "alice-state"}
    assert store.session(session_id=A1, owner=BOB) is None and store.session(session_id=B1, owner=ALICE) is None
    assert [m.body["text"] for m in store.messages(session_id=B1, owner=BOB)] == ["bob's only worry", "an answer for bob"]
    assert store.messages(session_id=A1, owner=BOB) == [] and store.messages(session_id=B1, owner=ALICE) == []
    assert store.owner_of(session_id=A1) == ALICE and store.owner_of(session_id="f" * 32) is None


def test_writing_into_another_owners_session_raises_and_writes_nothing(two_owners: SQLiteStore) -> None:
    store = two_owners
    before = rows(store)
    with pytest.raises(NotYourSession):
        store.add_message(session_id=A1, owner=BOB, body=user("bob writes into alice's"))
    with pytest.raises(NotYourSession):
        store.add_message(session_id=B1, owner=ALICE, body=steady("alice writes into bob's"))
    with pytest.raises(NotYourSession):
        store.save_session(session_id=A1, owner=BOB, mode="rehearse", state={"taken": True})
    store.update_message(session_id=A1, owner=BOB, seq=1, body=steady("overwritten by bob"), complete=True)
    assert store.set_feedback(session_id=A1, owner=BOB, seq=1, feedback="down") is False
    assert rows(store) == before
    with pytest.raises(ValueError):
        store.add_message(session_id="d" * 32, owner="", body=user("nobody's"))  # every session needs an owner


def test_deleting_an_owner_deletes_only_their_rows(two_owners: SQLiteStore) -> None:
    store = two_owners
    bobs = [r for r in rows(store) if B1 in r]
    assert sorted(store.delete_owner(owner=ALICE)) == [A1, A2]
    assert store.sessions(owner=ALICE) == [] and store.messages(session_id=A1, owner=ALICE) == []
    assert rows(store) == bobs
    assert [m.body["text"] for m in store.messages(session_id=B1, owner=BOB)] == ["bob's only worry", "an answer for bob"]
    on_disk = b"".join(p.read_bytes() for p in store.path.parent.glob("sessions.db*"))
    assert b"alice's first worry" not in on_disk and b"alice-state" not in on_disk
    assert store.delete_owner(owner=user_owner("nobody")) == []
    assert [r for r in rows(store) if B1 in r] == bobs


def test_the_database_files_are_private_even_with_a_loose_umask(tmp_path: Path, loose_umask) -> None:
    folder = tmp_path / "fresh-data"
    store = SQLiteStore(path=folder / "sessions.db")
    store.add_message(session_id=A1, owner=ALICE, body=user("private"))
    wal = folder / "sessions.db-wal"
    assert wal.exists()
    assert mode(folder) == 0o700
    assert mode(folder / "sessions.db") == 0o600 and mode(wal) == 0o600
    assert mode(folder / "sessions.db-shm") == 0o600
    store.close()
    # Reopened later (a new WAL is made), still private.
    again = SQLiteStore(path=folder / "sessions.db")
    again.add_message(session_id=A1, owner=ALICE, body=user("still private"))
    assert mode(folder / "sessions.db") == 0o600 and mode(wal) == 0o600
    again.close()
