"""The session database on PostgreSQL (`STEADY_DATABASE_URL`), shared by several `steady serve` workers.

psycopg 3 and its pool rather than SQLAlchemy with Alembic: the store is about fifteen statements that
app/store_sqlite.py already writes by hand, so the two stay side by side and readable, and the numbered
migrations below work as SQLite's do (a version number, steps never edited once released).

Nothing that keeps a conversation whole lives in process memory:
- a turn holds a PostgreSQL advisory lock on its session for the whole turn (`turn_lock`), so two
  workers answering one conversation take turns; a worker that dies drops its connection, and with
  it the lock;
- a message's position is `MAX(seq) + 1` under the session row's lock (`SELECT ... FOR UPDATE`), so
  concurrent writers queue and never take the same position;
- the schema is migrated under a transaction-level advisory lock, so workers starting together
  don't both migrate.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from app.store import NotYourSession, SessionSummary, StoredMessage, StoreError, StoreFull, check_feedback, title_of

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the same tables as SQLite's schema 3 (owners, thumbs, the history list by last use)
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            created DOUBLE PRECISION NOT NULL,
            updated DOUBLE PRECISION NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            mode TEXT NOT NULL DEFAULT 'ask',
            state TEXT NOT NULL DEFAULT '{}',
            owner TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE messages (
            id BIGSERIAL PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL,
            body TEXT NOT NULL,
            complete BOOLEAN NOT NULL DEFAULT TRUE,
            created DOUBLE PRECISION NOT NULL,
            feedback TEXT,
            UNIQUE (session_id, seq)
        )""",
        "CREATE INDEX sessions_by_owner ON sessions (owner, updated DESC)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
MIGRATION_LOCK = 0x5374656164  # "Stead": one key for every worker's migration
DATA_CONNECTIONS = 8  # short statements
LOCK_CONNECTIONS = 24  # each held for a whole turn; a separate pool, so waiting turns can't starve the writes
WAIT_SECONDS = 120.0  # for a connection: a queue of turns, each tens of milliseconds


def _where(url: str) -> str:
    """The server a URL names, without its password, for messages."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def _lock_key(session_id: str) -> int:
    return int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:8], "big", signed=True)


class PostgresStore:
    def __init__(self, *, url: str) -> None:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.url = url
        self.where = f"PostgreSQL at {_where(url)}"
        self._psycopg = psycopg
        try:  # one direct connection first: a server that isn't there is told at once, not after a pool's wait
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.Error as exc:
            raise StoreError(f"Steady can't reach its database at {_where(url)} ({type(exc).__name__}). "
                             "Check that PostgreSQL runs and STEADY_DATABASE_URL is right.") from None
        settings = {"row_factory": dict_row, "autocommit": True}
        self._data = ConnectionPool(url, min_size=1, max_size=DATA_CONNECTIONS, kwargs=settings,
                                    timeout=WAIT_SECONDS, open=True, name="steady-data")
        self._locks = ConnectionPool(url, min_size=0, max_size=LOCK_CONNECTIONS, kwargs=settings,
                                     timeout=WAIT_SECONDS, open=True, name="steady-turns")
        try:
            self._migrate()
        except BaseException:  # a refused schema (a newer Steady's) must not leave two open pools behind
            self.close()
            raise

    @contextmanager
    def _write(self) -> Iterator:
        """A transaction on a pooled connection; a full disk becomes StoreFull (nothing written)."""
        try:
            with self._data.connection() as conn, conn.transaction():
                yield conn
        except self._psycopg.errors.DiskFull as exc:
            raise StoreFull("The database server's disk is full; nothing was saved.") from exc
        except self._psycopg.OperationalError as exc:
            raise StoreError(f"Steady lost its database at {_where(self.url)}: {type(exc).__name__}.") from exc

    def _read(self, query: str, params: tuple) -> list[dict]:
        try:
            with self._data.connection() as conn:
                return conn.execute(query, params).fetchall()
        except self._psycopg.OperationalError as exc:
            raise StoreError(f"Steady lost its database at {_where(self.url)}: {type(exc).__name__}.") from exc

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS steady_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM steady_schema").fetchone()
            version = row["version"] if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(f"The database at {_where(self.url)} was written by a newer Steady (schema "
                                 f"{version}, this one knows {SCHEMA_VERSION}). Upgrade Steady first.")
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
            if row is None:
                conn.execute("INSERT INTO steady_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
            else:
                conn.execute("UPDATE steady_schema SET version = %s", (SCHEMA_VERSION,))

    @contextmanager
    def turn_lock(self, session_id: str) -> Iterator[None]:
        key = _lock_key(session_id)
        with self._locks.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    # --- sessions ---------------------------------------------------------------------------

    @staticmethod
    def _claim(conn, *, session_id: str, owner: str, mode: str, now: float) -> None:
        """Create the session for `owner`, or check that it is theirs, and hold its row until the transaction ends."""
        if not owner:
            raise ValueError("every session needs an owner")
        conn.execute("INSERT INTO sessions (id, created, updated, mode, owner) VALUES (%s, %s, %s, %s, %s) "
                     "ON CONFLICT (id) DO NOTHING", (session_id, now, now, mode, owner))
        if conn.execute("SELECT owner FROM sessions WHERE id = %s FOR UPDATE", (session_id,)).fetchone()["owner"] != owner:
            raise NotYourSession(session_id)

    def owner_of(self, *, session_id: str) -> str | None:
        rows = self._read("SELECT owner FROM sessions WHERE id = %s", (session_id,))
        return rows[0]["owner"] if rows else None

    def save_session(self, *, session_id: str, owner: str, mode: str, state: dict) -> None:
        now = time.time()
        with self._write() as conn:
            self._claim(conn, session_id=session_id, owner=owner, mode=mode, now=now)
            conn.execute("UPDATE sessions SET updated = %s, mode = %s, state = %s WHERE id = %s",
                         (now, mode, json.dumps(state, ensure_ascii=False), session_id))

    def session(self, *, session_id: str, owner: str) -> dict | None:
        rows = self._read("SELECT id, mode, state, title FROM sessions WHERE id = %s AND owner = %s", (session_id, owner))
        if not rows:
            return None
        row = rows[0]
        return {"session_id": row["id"], "mode": row["mode"], "state": json.loads(row["state"]), "title": row["title"]}

    def sessions(self, *, owner: str, limit: int = 50) -> list[SessionSummary]:
        rows = self._read(
            "SELECT s.id, s.title, s.updated, COUNT(m.id) AS n FROM sessions s JOIN messages m ON m.session_id = s.id "
            "WHERE s.owner = %s GROUP BY s.id ORDER BY s.updated DESC LIMIT %s", (owner, limit))
        return [SessionSummary(r["id"], r["title"], r["updated"], r["n"]) for r in rows]

    # --- messages ---------------------------------------------------------------------------

    def add_message(self, *, session_id: str, owner: str, body: dict, complete: bool = True, mode: str = "ask") -> int:
        now = time.time()
        with self._write() as conn:
            self._claim(conn, session_id=session_id, owner=owner, mode=mode, now=now)
            conn.execute("UPDATE sessions SET updated = %s WHERE id = %s", (now, session_id))
            if body.get("role") == "user" and body.get("text"):
                conn.execute("UPDATE sessions SET title = %s WHERE id = %s AND title = ''",
                             (title_of(str(body["text"])), session_id))
            seq = conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) AS seq FROM messages WHERE session_id = %s",
                               (session_id,)).fetchone()["seq"]
            conn.execute("INSERT INTO messages (session_id, seq, role, body, complete, created) "
                         "VALUES (%s, %s, %s, %s, %s, %s)",
                         (session_id, seq, body.get("role", ""), json.dumps(body, ensure_ascii=False), complete, now))
        return seq

    def update_message(self, *, session_id: str, owner: str, seq: int, body: dict, complete: bool) -> None:
        with self._write() as conn:
            conn.execute("UPDATE messages SET body = %s, complete = %s WHERE session_id = %s AND seq = %s "
                         "AND session_id IN (SELECT id FROM sessions WHERE owner = %s)",
                         (json.dumps(body, ensure_ascii=False), complete, session_id, seq, owner))

    def messages(self, *, session_id: str, owner: str) -> list[StoredMessage]:
        rows = self._read(
            "SELECT m.seq, m.body, m.complete, m.feedback FROM messages m JOIN sessions s ON s.id = m.session_id "
            "WHERE m.session_id = %s AND s.owner = %s ORDER BY m.seq", (session_id, owner))
        return [StoredMessage(r["seq"], json.loads(r["body"]), bool(r["complete"]), r["feedback"]) for r in rows]

    def set_feedback(self, *, session_id: str, owner: str, seq: int, feedback: str | None) -> bool:
        check_feedback(feedback)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE messages SET feedback = %s WHERE session_id = %s AND seq = %s AND role = 'steady' "
                "AND session_id IN (SELECT id FROM sessions WHERE owner = %s)", (feedback, session_id, seq, owner))
            return cursor.rowcount == 1

    # --- deleting ---------------------------------------------------------------------------
    # Deleted rows are reclaimed by PostgreSQL's autovacuum (the operator's backups keep their own copies).

    def delete_owner(self, *, owner: str) -> list[str]:
        with self._write() as conn:
            ids = [r["id"] for r in conn.execute("DELETE FROM sessions WHERE owner = %s RETURNING id", (owner,))]
        return ids

    def delete_everything(self) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM messages")
            conn.execute("DELETE FROM sessions")

    def close(self) -> None:
        self._data.close()
        self._locks.close()
