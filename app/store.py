"""Where conversations are kept: the `Store` every layer talks to, and which one a configuration opens.

Two implementations with the same behaviour (tests/test_store.py plays both):
- app/store_sqlite.py, one SQLite file in the data folder: the single-machine default, one process.
- app/store_postgres.py, PostgreSQL when `STEADY_DATABASE_URL` is set: several worker processes share
  it, so everything that keeps a conversation whole is a database transaction or lock, not process memory.
"""

from __future__ import annotations

import textwrap
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

FEEDBACK = ("up", "down")
TITLE_CHARS = 60


def title_of(text: str) -> str:
    """The first message as a title: cut at a word boundary with an ellipsis (mid-word only for a
    word, or a text without spaces such as Chinese, longer than the whole title). Control characters are
    left out: a title is shown, and PostgreSQL's text can't hold NUL."""
    flat = " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())
    if len(flat) <= TITLE_CHARS:
        return flat
    cut = textwrap.shorten(flat, width=TITLE_CHARS, placeholder="…")
    return cut if cut != "…" and len(cut) > TITLE_CHARS // 2 else flat[: TITLE_CHARS - 1].rstrip() + "…"


def check_feedback(feedback: str | None) -> None:
    if feedback is not None and feedback not in FEEDBACK:
        raise ValueError(f"feedback must be one of {FEEDBACK} or None, not {feedback!r}")


class StoreError(RuntimeError):
    """The database can't be used (newer schema, unreadable file, server down); the message says what to do."""


class StoreFull(StoreError):
    """A write failed because the disk (or the data folder's file system) is full; nothing was written."""


class NotYourSession(PermissionError):
    """The session exists and belongs to another owner: nothing was read or written."""


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


class Store(Protocol):
    """Every session belongs to one owner: each method takes the owner and touches only that owner's sessions."""

    where: str  # which database, for messages and reports ("SQLite at ...", "PostgreSQL at host:port/name")

    def turn_lock(self, session_id: str) -> AbstractContextManager[None]:
        """Held for a whole turn: one turn at a time per session, in every process that shares the store."""

    def owner_of(self, *, session_id: str) -> str | None:
        """The session's owner ('' for one stored before owners existed), or None if there is no such session."""

    def save_session(self, *, session_id: str, owner: str, mode: str, state: dict) -> None:
        """Record the session's mode and flow state (creating the owner's session if new)."""

    def session(self, *, session_id: str, owner: str) -> dict | None:
        """{"session_id", "mode", "state", "title"} of the owner's session, or None (unknown, or someone else's)."""

    def sessions(self, *, owner: str, limit: int = 50) -> list[SessionSummary]:
        """The owner's sessions that have at least one message, most recently used first."""

    def add_message(self, *, session_id: str, owner: str, body: dict, complete: bool = True, mode: str = "ask") -> int:
        """Append a message (creating the owner's session if new) and return its position in the session."""

    def update_message(self, *, session_id: str, owner: str, seq: int, body: dict, complete: bool) -> None:
        """Replace a message's content, e.g. a streamed reply as it grows and when it is done."""

    def messages(self, *, session_id: str, owner: str) -> list[StoredMessage]:
        """The owner's session's messages in order (none for someone else's session)."""

    def set_feedback(self, *, session_id: str, owner: str, seq: int, feedback: str | None) -> bool:
        """Thumbs up/down (or None to clear) on one of Steady's answers; False if there is no such answer."""

    def delete_owner(self, *, owner: str) -> list[str]:
        """Delete the owner's sessions and messages; returns the deleted session ids."""

    def delete_everything(self) -> None:
        """Every owner's sessions and messages (the operator's `steady forget --all`)."""

    def close(self) -> None: ...


def open_store(*, data_dir: Path, database_url: str = "") -> Store:
    """PostgreSQL when a database URL is configured, else the SQLite file in the data folder."""
    if database_url:
        from app.store_postgres import PostgresStore

        return PostgresStore(url=database_url)
    from app.store_sqlite import SQLiteStore

    return SQLiteStore(path=data_dir / "sessions.db")

