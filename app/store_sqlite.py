"""The session database on one SQLite file, for one `steady serve` process (the single-machine default).

Every message, each session's mode and flow state, and thumbs on answers, in WAL mode so readers never wait for the writer and a
killed process leaves every committed message intact. Each thread gets its own connection;
writes take the write lock up front (BEGIN IMMEDIATE) so concurrent writers queue instead of
failing. The schema is upgraded in numbered steps recorded in PRAGMA user_version, so a newer
Steady never drops the history an older one wrote. One process serves the file, so a turn's lock
is a thread lock (app/store_postgres.py's is the database's, for several processes).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.store import NotYourSession, SessionSummary, StoredMessage, StoreError, StoreFull, check_feedback, title_of

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
    (  # 3: every session belongs to one owner; sessions from before owners keep '' (nobody's but the operator's)
        "ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX sessions_by_owner ON sessions (owner, updated DESC)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
LOCK_STRIPES = 64  # striped, so the number of turn locks stays fixed however many sessions there are
_TURN_LOCKS: dict[Path, list[threading.Lock]] = {}
_TURN_LOCKS_LOCK = threading.Lock()


def private_files(db: Path) -> None:
    """The database and its WAL and shared-memory files, readable by their owner only."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists():
            path.chmod(0o600)


class SQLiteStore:
    def __init__(self, *, path: Path) -> None:
        self.path = path
        self.where = f"SQLite at {path}"
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        with _TURN_LOCKS_LOCK:  # every store of this file in the process shares them
            self._turn_locks = _TURN_LOCKS.setdefault(path.resolve(), [threading.Lock() for _ in range(LOCK_STRIPES)])
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._migrate(self._conn())
        private_files(path)  # the WAL exists now

    def turn_lock(self, session_id: str) -> threading.Lock:
        return self._turn_locks[zlib.crc32(session_id.encode()) % LOCK_STRIPES]

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
            private_files(self.path)
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if "full" in str(exc).lower() or "disk i/o" in str(exc).lower():
                raise StoreFull(f"The disk holding {self.path.parent} is full; nothing was saved.") from exc
            raise

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

    @staticmethod
    def _claim(conn: sqlite3.Connection, *, session_id: str, owner: str, mode: str, now: float) -> None:
        """Create the session for `owner`, or check that it is theirs; NotYourSession otherwise."""
        if not owner:
            raise ValueError("every session needs an owner")
        conn.execute(
            "INSERT INTO sessions (id, created, updated, mode, owner) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (session_id, now, now, mode, owner),
        )
        if conn.execute("SELECT owner FROM sessions WHERE id = ?", (session_id,)).fetchone()[0] != owner:
            raise NotYourSession(session_id)

    def owner_of(self, *, session_id: str) -> str | None:
        """The session's owner ('' for one stored before owners existed), or None if there is no such session."""
        row = self._conn().execute("SELECT owner FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else row["owner"]

    def save_session(self, *, session_id: str, owner: str, mode: str, state: dict) -> None:
        """Record the session's mode and flow state (its messages are stored one by one)."""
        now = time.time()
        with self._write() as conn:
            self._claim(conn, session_id=session_id, owner=owner, mode=mode, now=now)
            conn.execute("UPDATE sessions SET updated = ?, mode = ?, state = ? WHERE id = ?",
                         (now, mode, json.dumps(state, ensure_ascii=False), session_id))

    def session(self, *, session_id: str, owner: str) -> dict | None:
        """{"session_id", "mode", "state", "title"} of the owner's session, or None (unknown, or someone else's)."""
        row = self._conn().execute("SELECT id, mode, state, title FROM sessions WHERE id = ? AND owner = ?",
                                   (session_id, owner)).fetchone()
        if row is None:
            return None
        return {"session_id": row["id"], "mode": row["mode"], "state": json.loads(row["state"]), "title": row["title"]}

    def sessions(self, *, owner: str, limit: int = 50) -> list[SessionSummary]:
        """The owner's sessions that have at least one message, most recently used first."""
        rows = self._conn().execute(
            "SELECT s.id, s.title, s.updated, COUNT(m.id) AS n FROM sessions s JOIN messages m ON m.session_id = s.id "
            "WHERE s.owner = ? GROUP BY s.id ORDER BY s.updated DESC LIMIT ?",
            (owner, limit),
        ).fetchall()
        return [SessionSummary(r["id"], r["title"], r["updated"], r["n"]) for r in rows]

    # --- messages ---------------------------------------------------------------------------

    def add_message(self, *, session_id: str, owner: str, body: dict, complete: bool = True, mode: str = "ask") -> int:
        """Append a message (creating the owner's session if new) and return its position in the session."""
        now = time.time()
        with self._write() as conn:
            self._claim(conn, session_id=session_id, owner=owner, mode=mode, now=now)
            conn.execute("UPDATE sessions SET updated = ? WHERE id = ?", (now, session_id))
            if body.get("role") == "user" and body.get("text"):
                title = title_of(str(body["text"]))
                conn.execute("UPDATE sessions SET title = ? WHERE id = ? AND title = ''", (title, session_id))
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO messages (session_id, seq, role, body, complete, created) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, seq, body.get("role", ""), json.dumps(body, ensure_ascii=False), int(complete), now),
            )
        return seq

    def update_message(self, *, session_id: str, owner: str, seq: int, body: dict, complete: bool) -> None:
        """Replace a message's content, e.g. a streamed reply as it grows and when it is done."""
        with self._write() as conn:
            conn.execute(
                "UPDATE messages SET body = ?, complete = ? WHERE session_id = ? AND seq = ? "
                "AND session_id IN (SELECT id FROM sessions WHERE owner = ?)",
                (json.dumps(body, ensure_ascii=False), int(complete), session_id, seq, owner),
            )

    def messages(self, *, session_id: str, owner: str) -> list[StoredMessage]:
        """The owner's session's messages in order (none for someone else's session)."""
        rows = self._conn().execute(
            "SELECT m.seq, m.body, m.complete, m.feedback FROM messages m JOIN sessions s ON s.id = m.session_id "
            "WHERE m.session_id = ? AND s.owner = ? ORDER BY m.seq", (session_id, owner)
        ).fetchall()
        return [StoredMessage(r["seq"], json.loads(r["body"]), bool(r["complete"]), r["feedback"]) for r in rows]

    def set_feedback(self, *, session_id: str, owner: str, seq: int, feedback: str | None) -> bool:
        """Thumbs up/down (or None to clear) on one of Steady's answers in the owner's session; False if no such answer."""
        check_feedback(feedback)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE messages SET feedback = ? WHERE session_id = ? AND seq = ? AND role = 'steady' "
                "AND session_id IN (SELECT id FROM sessions WHERE owner = ?)",
                (feedback, session_id, seq, owner),
            )
        return cursor.rowcount == 1

    # --- deleting ---------------------------------------------------------------------------

    def delete_owner(self, *, owner: str) -> list[str]:
        """Delete the owner's sessions and messages (and shrink the file); returns the deleted session ids."""
        with self._write() as conn:
            ids = [r["id"] for r in conn.execute("SELECT id FROM sessions WHERE owner = ?", (owner,))]
            conn.execute("DELETE FROM messages WHERE session_id IN (SELECT id FROM sessions WHERE owner = ?)", (owner,))
            conn.execute("DELETE FROM sessions WHERE owner = ?", (owner,))
        self._shrink()
        return ids

    def delete_everything(self) -> None:
        """Every owner's sessions and messages (the operator's `steady forget --all`), and shrink the file."""
        with self._write() as conn:
            conn.execute("DELETE FROM messages")
            conn.execute("DELETE FROM sessions")
        self._shrink()

    def _shrink(self) -> None:
        conn = self._conn()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL held copies of the deleted pages
        conn.execute("VACUUM")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
