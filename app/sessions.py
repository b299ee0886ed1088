"""Conversations that outlive the process: the engine's sessions kept in the session database.

Every user message is written before the engine sees it; a streamed reply is written as it grows
and again when it is done, so a page closed mid-answer or a killed server loses nothing that was
shown. Interface-neutral: the web app (and its API) drive this; it knows nothing of Gradio.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import traceback
import zlib
from collections.abc import Iterator
from pathlib import Path

from app.engine import Engine, Session
from app.prompts import texts
from app.reply import Reply
from app.store import Store

log = logging.getLogger("steady.sessions")
PARTIAL_SAVE_SECONDS = 0.5  # how often a reply being streamed is written down
LOCK_STRIPES = 64


class Conversations:
    def __init__(self, *, engine: Engine, store: Store, files_dir: Path) -> None:
        self.engine = engine
        self.store = store
        self.files_dir = files_dir  # downloads written for the person (script, calendar file)
        # One turn at a time per session (two tabs on one session take turns); striped so the
        # number of locks stays fixed however many sessions there are.
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def _lock(self, session_id: str) -> threading.Lock:
        return self._locks[zlib.crc32(session_id.encode()) % LOCK_STRIPES]

    def load(self, session_id: str) -> Session:
        """The stored session, or a new empty one with this id."""
        row = self.store.session(session_id=session_id)
        history = [m.body for m in self.store.messages(session_id=session_id)]
        if row is None:
            return Session(session_id=session_id, history=history)
        return Session(session_id=session_id, mode=row["mode"], history=history, state=row["state"])

    def turn(self, session_id: str, text: str) -> Iterator[str | Reply]:
        """Answer one message in a stored session: text deltas while a model writes, then the Reply."""
        with self._lock(session_id):
            session = self.load(session_id)
            text = (text or "").strip()
            self.store.add_message(session_id=session_id, mode=session.mode,
                                   body={"role": "user", "text": text, "mode": session.mode})
            produced: list[str] = []
            partial_seq: int | None = None
            saved_at = time.monotonic()
            reply: Reply | None = None
            try:
                for item in self._answer(session, text):
                    if isinstance(item, Reply):
                        reply = item
                        continue
                    produced.append(item)
                    # The first piece at once, then at most every PARTIAL_SAVE_SECONDS.
                    if partial_seq is None or time.monotonic() - saved_at >= PARTIAL_SAVE_SECONDS:
                        partial_seq = self._save_partial(session, produced, partial_seq)
                        saved_at = time.monotonic()
                    yield item
            finally:
                if reply is None:  # the page went away (or the server is stopping) mid-answer
                    if produced:
                        self._save_partial(session, produced, partial_seq)
                    self.store.save_session(session_id=session_id, mode=session.mode, state=session.state)
            body = session.history[-1]  # the engine recorded the reply there
            if partial_seq is None:
                self.store.add_message(session_id=session_id, body=body)
            else:
                self.store.update_message(session_id=session_id, seq=partial_seq, body=body, complete=True)
            self.store.save_session(session_id=session_id, mode=session.mode, state=session.state)
            yield reply

    def _answer(self, session: Session, text: str) -> Iterator[str | Reply]:
        """The engine's answer; an unexpected fault becomes a calm reply and an operator log line."""
        try:
            yield from self.engine.stream(session, text)
        except Exception as exc:  # noqa: BLE001 - the person must never see a traceback
            # The exception text may quote the message, so only its type and frames are logged.
            log.error("a turn failed with %s:\n%s", exc.__class__.__name__, "".join(traceback.format_tb(exc.__traceback__)))
            reply = Reply(mode=session.mode, text=texts("web")["turn_failed"])
            session.history.append({"role": "steady", **reply.to_json()})
            yield reply

    def _save_partial(self, session: Session, produced: list[str], seq: int | None) -> int:
        body = {"role": "steady", "mode": session.mode, "text": "".join(produced), "interrupted": True}
        if seq is None:
            return self.store.add_message(session_id=session.session_id, body=body, complete=False)
        self.store.update_message(session_id=session.session_id, seq=seq, body=body, complete=False)
        return seq

    def send(self, session_id: str, text: str) -> Reply:
        """One complete turn (no streaming), for the API and tests."""
        reply = None
        for item in self.turn(session_id, text):
            reply = item
        assert isinstance(reply, Reply)
        return reply

    def feedback(self, session_id: str, *, seq: int, value: str | None) -> bool:
        return self.store.set_feedback(session_id=session_id, seq=seq, feedback=value)

    def downloads(self, session: Session) -> dict[str, Path]:
        """The latest script (with feedback and email, once debriefed) and calendar file, written as files."""
        state = latest_state(session.history, "script")
        if not state:
            return {}
        folder = self.files_dir / session.session_id
        folder.mkdir(parents=True, exist_ok=True)
        words = texts("web")["downloads"]
        files = {"script": folder / words["script_file"]}
        files["script"].write_text(script_document(state) + "\n", encoding="utf-8")
        if state.get("ics"):
            files["ics"] = folder / words["ics_file"]
            files["ics"].write_text(state["ics"], encoding="utf-8", newline="")  # iCalendar keeps its CRLFs
        return files

    def delete_everything(self, *, extra_dirs: tuple[Path, ...] = ()) -> None:
        """Every session, message and file written for the person (and any caches named)."""
        self.store.delete_everything()
        for folder in (self.files_dir, *extra_dirs):
            shutil.rmtree(folder, ignore_errors=True)


def latest_state(history: list[dict], key: str) -> dict:
    """The state of Steady's most recent reply that carries `key` (e.g. "pressures", "script")."""
    for turn in reversed(history):
        state = turn.get("state") or {}
        if turn.get("role") == "steady" and state.get(key):
            return state
    return {}


def script_document(state: dict) -> str:
    """The script, then (after a debrief) how it went and the follow-up email, as one Markdown text."""
    words = texts("web")["downloads"]
    parts = []
    for key in ("script", "summary", "email"):
        text = (state.get(key) or "").strip()
        if text:
            # Each part gets a top-level heading unless it brings its own.
            parts.append(text if text.startswith("# ") else f"# {words[key + '_heading']}\n\n{text}")
    return "\n\n---\n\n".join(parts)


def latest_citations(history: list[dict]) -> list[dict]:
    """The citations of Steady's most recent reply (empty when it cited nothing)."""
    for turn in reversed(history):
        if turn.get("role") == "steady":
            return list(turn.get("citations") or [])
    return []
