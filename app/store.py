"""The session database: every message, each session's mode and flow state, and thumbs on answers.

One SQLite file in the data folder, in WAL mode so readers never wait for the writer and a
killed process leaves every committed message intact. Each thread gets its own connection;
writes take the write lock up front (BEGIN IMMEDIATE) so concurrent writers queue instead of
failing. The schema is upgraded in numbered steps recorded in PRAGMA user_version, so a newer
Steady never drops the history an older one wrote.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Each step moves the schema one version up; never edit a released step, add a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: sessions and their messages
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            mode TEXT NOT NULL DEFAULT 'ask',
            state TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL,
            body TEXT NOT NULL,
            complete INTEGER NOT NULL DEFAULT 1,
            created REAL NOT NULL,
            UNIQUE (session_id, seq)
        )""",
    ),
    (  # 2: thumbs up/down on answers, and the history list ordered by last use
        "ALTER TABLE messages ADD COLUMN feedback TEXT",
        "CREATE INDEX sessions_by_update ON sessions (updated DESC)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
FEEDBACK = ("up", "down")
TITLE_CHARS = 60


class StoreError(RuntimeError):
    """The database can't be used (newer schema, unreadable file); the message says what to do."""


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    body: dict  # a Session.history entry: {"role": "user"|"steady", "text", "mode", ...}
    complete: bool  # False for a reply cut off mid-stream
    feedback: str | None  # "up", "down" or None


@dataclass(frozen=True)
class SessionSummary:
    session_id: str
    title: str
    updated: float
    messages: int


class Store:
    def __init__(self, *, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate(self._conn())

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                # autocommit (isolation_level=None): transactions are opened explicitly below
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"Could not open the session database {self.path}: {exc}") from exc
            conn.execute("PRAGMA synchronous=NORMAL")  # in WAL mode still safe against a crash of the app
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA secure_delete=ON")  # deleted messages are overwritten, not left in free pages
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"The session database {self.path} was written by a newer Steady (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}). Upgrade Steady, or point STEADY_DATA_DIR elsewhere."
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # --- sessions ---------------------------------------------------------------------------

    def save_session(self, *, session_id: str, mode: str, state: dict) -> None:
        """Record the session's mode and flow state (its messages are stored one by one)."""
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions (id, created, updated, mode, state) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, mode = excluded.mode, state = excluded.state",
                (session_id, now, now, mode, json.dumps(state, ensure_ascii=False)),
            )

    def session(self, *, session_id: str) -> dict | None:
        """{"session_id", "mode", "state", "title"}, or None for an unknown session."""
        row = self._conn().execute("SELECT id, mode, state, title FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        return {"session_id": row["id"], "mode": row["mode"], "state": json.loads(row["state"]), "title": row["title"]}

    def sessions(self, *, limit: int = 50) -> list[SessionSummary]:
        """Sessions that have at least one message, most recently used first."""
        rows = self._conn().execute(
            "SELECT s.id, s.title, s.updated, COUNT(m.id) AS n FROM sessions s JOIN messages m ON m.session_id = s.id "
            "GROUP BY s.id ORDER BY s.updated DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [SessionSummary(r["id"], r["title"], r["updated"], r["n"]) for r in rows]

    # --- messages ---------------------------------------------------------------------------

    def add_message(self, *, session_id: str, body: dict, complete: bool = True, mode: str = "ask") -> int:
        """Append a message (creating the session if new) and return its position in the session."""
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions (id, created, updated, mode) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated",
                (session_id, now, now, mode),
            )
            if body.get("role") == "user" and body.get("text"):
                title = " ".join(str(body["text"]).split())[:TITLE_CHARS]
                conn.execute("UPDATE sessions SET title = ? WHERE id = ? AND title = ''", (title, session_id))
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO messages (session_id, seq, role, body, complete, created) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, seq, body.get("role", ""), json.dumps(body, ensure_ascii=False), int(complete), now),
            )
        return seq

    def update_message(self, *, session_id: str, seq: int, body: dict, complete: bool) -> None:
        """Replace a message's content, e.g. a streamed reply as it grows and when it is done."""
        with self._write() as conn:
            conn.execute(
                "UPDATE messages SET body = ?, complete = ? WHERE session_id = ? AND seq = ?",
                (json.dumps(body, ensure_ascii=False), int(complete), session_id, seq),
            )

    def messages(self, *, session_id: str) -> list[StoredMessage]:
        rows = self._conn().execute(
            "SELECT seq, body, complete, feedback FROM messages WHERE session_id = ? ORDER BY seq", (session_id,)
        ).fetchall()
        return [StoredMessage(r["seq"], json.loads(r["body"]), bool(r["complete"]), r["feedback"]) for r in rows]

    def set_feedback(self, *, session_id: str, seq: int, feedback: str | None) -> bool:
        """Thumbs up/down (or None to clear) on one of Steady's answers; False if there is no such answer."""
        if feedback is not None and feedback not in FEEDBACK:
            raise ValueError(f"feedback must be one of {FEEDBACK} or None, not {feedback!r}")
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE messages SET feedback = ? WHERE session_id = ? AND seq = ? AND role = 'steady'",
                (feedback, session_id, seq),
            )
        return cursor.rowcount == 1

    # --- deleting ---------------------------------------------------------------------------

    def delete_everything(self) -> None:
        """Delete every session and message, and shrink the file so nothing lingers on disk."""
        with self._write() as conn:
            conn.execute("DELETE FROM messages")
            conn.execute("DELETE FROM sessions")
        conn = self._conn()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL held copies of the deleted pages
        conn.execute("VACUUM")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
