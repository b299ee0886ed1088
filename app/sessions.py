"""Conversations that outlive the process: the engine's sessions kept in the session database.

Every user message is written before the engine sees it; a streamed reply is written as it grows
and again when it is done, so a page closed mid-answer or a killed server loses nothing that was
shown. Every session belongs to one owner (a browser's token or a signed-in user, see app/owners.py): each
method takes the owner and reads or writes only that owner's sessions. Downloads are rendered when
asked, never left as files. Interface-neutral: the web app (and its API) drive this; it knows
nothing of Gradio.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Generator, Iterator

from app import rehearse
from app.engine import Engine, Session, last_reply
from app.prompts import texts
from app.reply import Reply
from app.store import NotYourSession, Store, StoreFull

log = logging.getLogger("steady.sessions")
PARTIAL_SAVE_SECONDS = 0.5  # how often a reply being streamed is written down
MAX_STORED_CHARS = 20_000  # a message longer than this is kept (and answered) from its start, with a notice
WRITE_TRIES = 3  # a full disk may free up in a moment (logs rotated, a download finished)
WRITE_RETRY_SECONDS = 0.5


class Conversations:
    def __init__(self, *, engine: Engine, store: Store) -> None:
        self.engine = engine
        self.store = store

    def owns(self, session_id: str, owner: str) -> bool:
        """True when the session is the owner's or doesn't exist yet (so it would become theirs)."""
        return self.store.owner_of(session_id=session_id) in (None, owner)

    def load(self, session_id: str, owner: str) -> Session:
        """The owner's stored session, or a new empty one with this id; NotYourSession for another's."""
        return self.opened(session_id, owner)[0]

    def opened(self, session_id: str, owner: str) -> tuple[Session, dict[int, str | None]]:
        """The session as load() gives it, and the thumbs on its messages by position, from one read."""
        if not self.owns(session_id, owner):
            raise NotYourSession(session_id)
        row = self.store.session(session_id=session_id, owner=owner)
        if row is None:
            return Session(session_id=session_id), {}
        messages = self.store.messages(session_id=session_id, owner=owner)
        session = Session.restore(session_id=session_id, mode=row["mode"], history=[m.body for m in messages],
                                  state=row["state"])
        return session, {m.seq: m.feedback for m in messages}

    def history(self, owner: str) -> list:
        """The owner's conversations, newest first (app.store.SessionSummary)."""
        return self.store.sessions(owner=owner)

    def turn(self, session_id: str, text: str, *, owner: str) -> Generator[str | Reply, None, Session]:
        """Answer one message in the owner's stored session: text deltas while a model writes, then the Reply;
        returns the session as the turn left it (so a page can show it without reading it again).

        The message is written before the engine sees it; NotYourSession (nothing read or written) for
        another owner's session, StoreFull when the disk stays full (nothing written, nothing answered)."""
        # One turn at a time per session (two tabs, or two workers, on one session take turns).
        with self.store.turn_lock(session_id):
            session = self.load(session_id, owner)
            text = (text or "").strip()
            cut = len(text) > MAX_STORED_CHARS
            text = text[:MAX_STORED_CHARS]
            self._write_first(session_id=session_id, owner=owner, mode=session.mode,
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
                        partial_seq = self._save_partial(session, produced, partial_seq, owner)
                        saved_at = time.monotonic()
                    yield item
            finally:
                if reply is None:  # the page went away (or the server is stopping) mid-answer
                    if produced:
                        self._save_partial(session, produced, partial_seq, owner)
                    self.store.save_session(session_id=session_id, owner=owner, mode=session.mode, state=session.stored_state())
            body = session.history[-1]  # the engine recorded the reply there
            if cut and reply is not None:
                note = texts("web")["stored_cut"].format(limit=MAX_STORED_CHARS)
                reply.notice = " ".join(n for n in (reply.notice, note) if n)
                body["notice"] = reply.notice
            if partial_seq is None:
                self.store.add_message(session_id=session_id, owner=owner, body=body)
            else:
                self.store.update_message(session_id=session_id, owner=owner, seq=partial_seq, body=body, complete=True)
            self.store.save_session(session_id=session_id, owner=owner, mode=session.mode, state=session.stored_state())
            yield reply
        return session

    def _write_first(self, **message) -> None:
        """Store the person's message before answering it, retrying briefly while the disk is full."""
        for attempt in range(WRITE_TRIES):
            try:
                self.store.add_message(**message)
                return
            except StoreFull:
                if attempt == WRITE_TRIES - 1:
                    raise
                time.sleep(WRITE_RETRY_SECONDS)

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

    def _save_partial(self, session: Session, produced: list[str], seq: int | None, owner: str) -> int:
        body = {"role": "steady", "mode": session.mode, "text": "".join(produced), "interrupted": True}
        if seq is None:
            return self.store.add_message(session_id=session.session_id, owner=owner, body=body, complete=False)
        self.store.update_message(session_id=session.session_id, owner=owner, seq=seq, body=body, complete=False)
        return seq

    def send(self, session_id: str, text: str, *, owner: str) -> Reply:
        """One complete turn (no streaming), for the API and tests."""
        reply = None
        for item in self.turn(session_id, text, owner=owner):
            reply = item
        assert isinstance(reply, Reply)
        return reply

    def feedback(self, session_id: str, *, owner: str, seq: int, value: str | None) -> bool:
        return self.store.set_feedback(session_id=session_id, owner=owner, seq=seq, feedback=value)

    def download(self, session_id: str, *, owner: str, kind: str) -> tuple[str, str] | None:
        """(file name, content) of the owner's latest script or calendar file, rendered now; None if there is none."""
        if self.store.owner_of(session_id=session_id) != owner:
            return None
        docs = rehearsal_documents(self.load(session_id, owner))
        words = texts("web")["downloads"]
        if kind == "script" and docs.get("script"):
            return words["script_file"], script_document(docs) + "\n"
        if kind == "ics" and docs.get("ics"):
            return words["ics_file"], docs["ics"]
        return None

    def forget(self, *, owner: str) -> int:
        """Delete everything stored for one owner; returns how many conversations went."""
        return len(self.store.delete_owner(owner=owner))


def latest_state(history: list[dict], key: str) -> dict:
    """The state of Steady's most recent reply that carries `key` (e.g. "pressures")."""
    turn = last_reply(history, lambda turn: bool((turn.get("state") or {}).get(key)))
    return turn["state"] if turn else {}


def rehearsal_documents(session: Session) -> dict:
    """The session's rehearsal documents (case, script, email, .ics), rendered from its memory."""
    return rehearse.documents(session.rehearsal) if session.rehearsal else {}


def script_document(state: dict) -> str:
    """The script, then (after a debrief) how it went and the follow-up email, as one Markdown text."""
    words = texts("web")["downloads"]
    parts = []
    for key in ("script", "summary", "email"):
        text = (state.get(key) or "").strip()
        if text:
            # Each part gets a top-level heading unless it brings its own.
            parts.append(text if text.startswith("# ") else f"# {words[key + '_heading']}\n\n{text}")
    # What the person typed is in there: no HTML of theirs runs wherever the Markdown is opened. Only "&" and "<"
    # are escaped: they are what HTML needs, and a ">" left alone keeps a quoted line a Markdown quote.
    return "\n\n---\n\n".join(parts).replace("&", "&amp;").replace("<", "&lt;")


def latest_citations(history: list[dict]) -> list[dict]:
    """The citations of Steady's most recent reply (empty when it cited nothing)."""
    turn = last_reply(history)
    return list(turn.get("citations") or []) if turn else []
