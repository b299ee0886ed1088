"""The conversation engine: one session, one `send(text) -> Reply`, for the CLI, the web app and evals.

It routes slash commands and quick replies, keeps the history, and hands each turn to the flow
of the session's mode. It knows nothing of Gradio or of the terminal.
"""

from __future__ import annotations

import html
import logging
import traceback
import unicodedata
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field, fields

from app import ask, case, checkin, rehearse, safety
from app.prompts import texts
from app.reading import APP_REQUESTS, Reading, read
from app.reply import Reply
from app.retrieval import Retriever

log = logging.getLogger("steady")
COMMANDS = ("/checkin", "/rehearse", "/ask", "/help", "/reset", "/export")
MAX_MESSAGE_CHARS = 4000  # longer messages are answered from their first part, and told so
SPECIFIC_PRESSURE = 0.6  # a feeling that names a pressure this clearly is answered, not only offered the check-in


@dataclass
class Session:
    """One conversation: its history and each flow's typed state (what replies show is derived from it)."""

    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    mode: str = "ask"
    history: list[dict] = field(default_factory=list)  # {"role": "user"|"steady", "text", "mode", ...}
    ask: ask.AskMemory = field(default_factory=ask.AskMemory)
    checkin: checkin.CheckIn | None = None
    rehearsal: rehearse.Rehearsal | None = None
    crisis: safety.CrisisMarks = field(default_factory=safety.CrisisMarks)
    opening: str | None = None  # a feeling the person opened with, kept so a check-in can start from it
    health_nudged: bool = False  # the health nudge is given once a conversation

    def clear(self) -> None:
        """/reset: the same conversation id, nothing else kept."""
        vars(self).update(vars(Session(session_id=self.session_id)))

    def stored_state(self) -> dict:
        """What the session database keeps besides the history: the one place flow state is serialised."""
        flows = {"checkin": self.checkin, "rehearse": self.rehearsal}
        return {"ask": asdict(self.ask), "crisis": asdict(self.crisis), "opening": self.opening,
                "health_nudged": self.health_nudged,
                **{name: flow.to_json() for name, flow in flows.items() if flow is not None}}

    @classmethod
    def restore(cls, *, session_id: str, mode: str, history: list[dict], state: dict) -> Session:
        """The session as stored_state() and the history left it."""
        found, rehearsal = state.get("checkin"), state.get("rehearse")
        return cls(session_id=session_id, mode=mode, history=history,
                   ask=_known(ask.AskMemory, state.get("ask")), crisis=_known(safety.CrisisMarks, state.get("crisis")),
                   opening=state.get("opening"), health_nudged=bool(state.get("health_nudged")),
                   checkin=checkin.CheckIn.from_json(found) if found else None,
                   rehearsal=rehearse.Rehearsal.from_json(rehearsal) if rehearsal else None)


def _known(kind, stored: dict | None):
    """A small state dataclass from what was stored (fields it no longer has are left out)."""
    names = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in (stored or {}).items() if k in names})


class Engine:
    def __init__(self, *, retriever: Retriever, llm=None) -> None:  # llm: app.llm.Generator | None
        self.retriever = retriever
        self.llm = llm

    def new_session(self) -> Session:
        return Session()

    def warm_up(self) -> None:
        """Pay the one-off costs (embedding the flows' banks) before the first person arrives."""
        checkin.warm_up(self.retriever)
        safety.assess("warming up the crisis check, nothing more", classify=True)
        safety.language("warming up")

    def use(self, retriever: Retriever) -> None:
        """Answer from another index version from the next turn on (a turn under way keeps the one it has)."""
        checkin.warm_up(retriever)
        self.retriever = retriever

    def welcome(self) -> Reply:
        return Reply(mode="ask", text=texts("engine")["welcome"], choices=list(texts("engine")["welcome_choices"]))

    def send(self, session: Session, text: str) -> Reply:
        """Answer one message; the reply is complete (no streaming)."""
        reply = None
        for item in self.stream(session, text):
            if isinstance(item, Reply):
                reply = item
        assert reply is not None
        return reply

    def stream(self, session: Session, text: str) -> Iterator[str | Reply]:
        """Yield text deltas while a model writes, then the final Reply (always last).

        Never raises: a fault inside a flow becomes a kind message, the session stays usable and
        the operator's log gets the error's type and where it happened (never the person's words)."""
        text = readable(text)
        session.history.append({"role": "user", "text": text, "mode": session.mode})
        try:
            reply = yield from self._answer(session, text)
        except Exception as exc:  # noqa: BLE001 - a tired person must never see a traceback
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error("turn failed: %s at %s:%s", type(exc).__name__, where.filename, where.lineno)
            reply = Reply(mode=session.mode, text=texts("engine")["internal_error"], choices=["/help", "/reset"])
        session.history.append(_stored(reply))
        yield reply

    def _answer(self, session: Session, text: str) -> Generator[str, None, Reply]:
        words = texts("engine")
        text = words["choice_commands"].get(text, text)
        paused = session.crisis.active
        if not text:
            reply = Reply(mode=session.mode, text=words["empty"])
        elif not any(ch.isalnum() for ch in text):  # emoji or punctuation only: nothing to read yet
            reply = Reply(mode=session.mode, text=words["no_words"])
        elif paused and text.split()[0].lower() not in ("/help", "/export", "/reset"):
            reply = self._while_paused(session, text)
        elif text.startswith("/"):
            reply = self._command(session, text)
        else:
            notice = ""
            if len(text) > MAX_MESSAGE_CHARS:
                notice = words["too_long"].format(limit=MAX_MESSAGE_CHARS)
                text = text[:MAX_MESSAGE_CHARS]
            found = safety.assess(text, classify=True, earlier=_earlier(session),
                                  in_flow=session.mode in ("checkin", "rehearse"))
            if found.crisis and text not in _offered(session):  # a quick reply Steady offered is its own words
                return self._crisis(session, found)
            reading = read(text, context=context_of(session), embedder=self.retriever.index.embedder)
            reply = yield from self._turn(session, reading)
            reply.notice = " ".join(n for n in (notice, reply.notice) if n)
            if found.health and not session.health_nudged:
                session.health_nudged = True  # once per session: a nudge, not a refrain
                # First: what the person said about their body matters more than the answer below it.
                reply.text = f"{texts('safety')['health_nudge']}\n\n{reply.text}"
                reply.state["health_nudge"] = True
        return reply

    def _crisis(self, session: Session, found: safety.Assessment) -> Reply:
        """The fixed human-written reply, in the person's language; coaching pauses until they choose to go on."""
        log.warning("crisis language routed to human help (kind=%s, session=%s)", found.kind, session.session_id[:8])
        marks = session.crisis
        marks.active, marks.times, marks.kind, marks.lang = True, marks.times + 1, found.kind, found.lang
        return Reply(mode="crisis", text=safety.crisis_text(found), choices=_crisis_choices(found.lang),
                     state={"crisis": True})

    def _while_paused(self, session: Session, text: str) -> Reply:
        marks = session.crisis
        words = safety.reply_words(marks.lang)
        if text in safety.continue_choices():
            marks.active = False
            pending = _last_flow_reply(session) if session.mode != "ask" else None  # resume the flow where it paused
            if pending is None:
                return Reply(mode=session.mode, text=words["continue"], choices=list(texts("ask")["choices"]),
                             state={"crisis": False})
            return Reply(mode=session.mode, text=f"{words['continue']}\n\n{pending['text']}",
                         choices=list(pending["choices"]), state={**pending["state"], "crisis": False})
        found = safety.assess(text, classify=True)
        if found.crisis:
            return self._crisis(session, found)
        if text in safety.again_choices():  # the same fixed text as before (e.g. the threat variant)
            again = safety.Assessment(crisis=True, health=False, kind=marks.kind, score=0.0, lang=marks.lang)
            return Reply(mode="crisis", text=safety.crisis_text(again), choices=_crisis_choices(again.lang),
                         state={"crisis": True})
        # Not a new crisis, so not labelled one; but no coaching until the person chooses to go on.
        return Reply(mode=session.mode, text=words["paused"], choices=_crisis_choices(marks.lang),
                     state={"crisis": False, "paused": True})

    def _turn(self, session: Session, reading: Reading) -> Generator[str, None, Reply]:
        """Hand the reading to the flow of the session's mode; requests to the app and questions for the
        guidance are handled in any flow, which then resumes where it was."""
        text = reading.text
        # In a role-play almost everything is a line to the manager: only a confident reading is a request.
        request = reading.wants(*APP_REQUESTS, at_least=0.75 if reading.context == "roleplay" else 0.55)
        if request:
            handled = self._request(session, request, reading)
            if handled is not None:
                return handled
        if session.mode == "checkin":
            memory = session.checkin
            if memory.step is checkin.Step.RESULT and not request and text not in texts("checkin")["next_choices"]:
                session.mode = "ask"  # typed after the result: the person moved on to a question
                return (yield from self._ask(session, reading))
            if reading.wants("question", "offdomain", at_least=0.6):
                return (yield from self._aside(session, reading))
            return checkin.turn(memory, reading, retriever=self.retriever)
        if session.mode == "rehearse":
            memory = session.rehearsal
            if memory.stage is rehearse.Stage.CASE and reading.wants("question", "offdomain", at_least=0.6) \
                    or memory.stage is rehearse.Stage.ROLEPLAY and reading.wants("question", "offdomain", at_least=0.8):
                return (yield from self._aside(session, reading))
            reply = rehearse.turn(memory, reading)
            if self.llm is not None and reply.state.get("voice"):
                reply = yield from self._voice(memory, reply)
            return reply
        offer = texts("checkin")["opening"]
        pending, session.opening = session.opening, None
        if pending and text == offer["answer_choice"]:
            reading = read(pending, context=reading.context, embedder=self.retriever.index.embedder)
            pending = None
        elif not (session.ask.answered or session.ask.chosen) and reading.wants("feeling"):
            session.opening = text  # kept so the check-in can start from it
            if max(reading.pressures.values()) < SPECIFIC_PRESSURE:  # a general heaviness: the check-in helps most
                return Reply(mode="ask", text=offer["offer"], choices=list(offer["choices"]))
            reply = yield from self._ask(session, reading)  # a named worry is answered, with the check-in one click away
            reply.choices = [offer["choices"][0], *(c for c in reply.choices if c != offer["choices"][0])]
            return reply
        # A question after the check-in offer may lean on the feeling that prompted it ("what did others do?").
        return (yield from self._ask(session, reading, previous=pending))

    def _request(self, session: Session, request: str, reading: Reading) -> Reply | None:
        """Do what the person asked of the app; None when the current flow handles it itself."""
        mode = session.mode
        if request == "help":
            return Reply(mode=mode, text=texts("engine")["help"], choices=_current_choices(session))
        if request == "checkin" and (mode != "checkin" or "checkin" in _done(session)):
            return self._command(session, "/checkin")
        if request == "rehearse" and mode != "rehearse":
            return self._command(session, "/rehearse")
        if request in ("switch_manager", "stop") and mode == "rehearse":
            return rehearse.turn(session.rehearsal, reading, request=request)
        if request == "switch_manager":
            return self._command(session, "/rehearse")
        if request == "start_over" and mode == "rehearse":
            return self._command(session, "/rehearse")
        if request == "start_over" and mode == "ask":
            session.ask = ask.AskMemory()
            return Reply(mode="ask", text=texts("engine")["reset"], choices=list(texts("ask")["choices"]))
        if request == "show_result" and mode != "checkin" and "checkin" in _done(session):
            session.mode = "checkin"
            return checkin.turn(session.checkin, reading, retriever=self.retriever)
        return None

    def _voice(self, memory: rehearse.Rehearsal, reply: Reply) -> Generator[str, None, Reply]:
        """The manager's line said by the model, streamed after the coach's note (which never uses the
        model); the persona bank's line, with a notice, when the model fails or breaks character."""
        voice = reply.state["voice"]
        label = texts("rehearse")["manager_label"].format(persona=voice["persona"])
        head, _, tail = reply.text.partition(f"{label} {voice['line']}")
        yield f"{head}{label} "
        line, refused = yield from self.llm.manager(persona=voice["persona"], beat=voice["beat"], heard=voice["heard"],
                                                    case=memory.case, transcript=memory.transcript,
                                                    example=voice["line"])
        if line is None:
            log.warning("model %s: manager line from the bank (%s)", self.llm.spec, refused)
            line = voice["line"]
            yield line
            reply.notice = texts("rehearse")["voice"]["notice"].format(model=self.llm.spec, reason=refused)
        else:
            rehearse.voiced(memory, line)
        yield tail
        reply.text = f"{head}{label} {line}{tail}"
        reply.state["voice"] = {**voice, "line": line, "generated": not refused, "refused": refused}
        return reply

    def _aside(self, session: Session, reading: Reading) -> Generator[str, None, Reply]:
        """A question for the guidance in the middle of a flow: answered, then the flow's question again."""
        pending = _last_flow_reply(session)
        reply = yield from self._ask(session, reading, aside=True)
        if pending is not None:
            question = pending["text"].split("\n\n")[-1]  # the flow's question, without what led up to it
            reply.text = f"{reply.text}\n\n{texts('engine')['resume']}\n\n{question}"
            reply.choices = list(pending["choices"])
        return reply

    def _command(self, session: Session, text: str) -> Reply:
        words = texts("engine")
        command = text.split()[0].lower()
        if command == "/help":
            return Reply(mode=session.mode, text=words["help"], choices=_current_choices(session))
        if command == "/reset":
            session.clear()
            return Reply(mode="ask", text=words["reset"], choices=list(texts("ask")["choices"]))
        if command == "/export":
            markdown = export_markdown(session)
            if session.rehearsal:
                markdown += "\n\n" + rehearse.export(session.rehearsal)
            return Reply(mode=session.mode, text=words["export_done"], state={"export": markdown},
                         choices=_current_choices(session))
        if command == "/ask":
            session.mode = "ask"
            session.ask.chosen = True  # they asked for answers: no check-in offers
            return Reply(mode="ask", text=words["ask_ready"])
        if command == "/checkin":
            session.mode = "checkin"
            seed, session.opening = session.opening, None
            if seed:
                seed = read(seed, context="checkin_question", embedder=self.retriever.index.embedder)
            session.checkin, reply = checkin.start(retriever=self.retriever, seed=seed)
            return reply
        if command == "/case":
            return self._edit_case(session, text)
        if command == "/rehearse":
            session.mode = "rehearse"
            top = checkin.top_of(session.checkin) if session.checkin else None
            session.rehearsal, reply = rehearse.start(checkin_top=top)
            return reply
        return Reply(mode=session.mode, text=words["unknown_command"].format(command=command))

    def _edit_case(self, session: Session, text: str) -> Reply:
        """/case: show the rehearsal's case, or change parts of it ("label: value" lines)."""
        said = texts("rehearse")["case_edit"]
        memory = session.rehearsal
        if not memory:
            return Reply(mode=session.mode, text=said["none_yet"], choices=_current_choices(session))
        edits, unknown = case.edits_of(text)
        labels = ", ".join(v["label"] for v in texts("rehearse")["case"].values())
        if not edits:
            lead = said["unknown"].format(name=unknown[0], labels=labels) if unknown else said["show"]
            return Reply(mode="rehearse", text=f"{lead}\n\n{rehearse.case_lines(memory.case)}\n\n{said['how']}",
                         choices=_current_choices(session))
        # Typed words like any message: the same crisis check before anything is read into the case.
        found = safety.assess("\n".join(edits.values()), classify=True, in_flow=True)
        if found.crisis:
            return self._crisis(session, found)
        readings = {item: read(value, context="case_question", embedder=self.retriever.index.embedder) if value else None
                    for item, value in edits.items()}
        reply = rehearse.edit(memory, readings, choices=_current_choices(session))
        if unknown:
            reply.text += "\n\n" + said["unknown"].format(name=unknown[0], labels=labels)
        return reply

    def _ask(self, session: Session, reading: Reading, *, aside: bool = False,
             previous: str | None = None) -> Generator[str, None, Reply]:
        memory = session.ask
        previous = memory.last_query or previous
        rewritten = None
        if self.llm is not None and previous and reading.leans_back:
            rewritten = self.llm.condense(reading.text, previous=previous)
        grounding = ask.ground(self.retriever, reading, previous=previous, standalone=rewritten,
                               exclude=memory.last_card)
        done = _done(session)

        def embedded() -> Reply:
            return ask.compose(self.retriever, grounding, done=done, next_step=not aside)  # the flow's question is the next step

        if self.llm is not None and grounding.in_scope:
            reply = yield from self.llm.answer(grounding, history=session.history, fallback=embedded)
        else:
            reply = embedded()
        if reply.state.get("grounded"):
            # Carried into the next follow-up; capped so a chain of follow-ups doesn't drift.
            memory.last_query = " ".join(grounding.standalone.split()[-40:])
            memory.last_card = grounding.card.answer if grounding.card else None
        return reply


def _stored(reply: Reply) -> dict:
    """The reply as the history keeps it: what the flow's memory can render again is left out."""
    body = {"role": "steady", **reply.to_json()}
    if body["state"].get("flow") == "rehearse":
        body["state"] = {k: v for k, v in body["state"].items() if k not in rehearse.DERIVED}
    return body


def _done(session: Session) -> set[str]:
    """The journeys this person has been through in this conversation: the next steps build on them."""
    done = set()
    if session.checkin and session.checkin.step is checkin.Step.RESULT:
        done.add("checkin")
    if session.rehearsal and session.rehearsal.stage in (rehearse.Stage.ROLEPLAY, rehearse.Stage.DEBRIEF):
        done.add("rehearse")
    return done


def context_of(session: Session) -> str:
    """What Steady had just done, as the intent model knows it (app/reading.CONTEXTS)."""
    if session.mode == "checkin":
        return "checkin_result" if "checkin" in _done(session) else "checkin_question"
    if session.mode == "rehearse":
        stage = session.rehearsal.stage if session.rehearsal else None
        return {rehearse.Stage.CASE: "case_question", rehearse.Stage.SCRIPT: "case_question",
                rehearse.Stage.ROLEPLAY: "roleplay"}.get(stage, "after_answer")
    return "after_answer" if session.ask.answered else "start"


def _crisis_choices(lang: str) -> list[str]:
    words = safety.reply_words(lang)
    return [words["choice_continue"], words["choice_again"]]


def last_reply(history: list[dict], where: Callable[[dict], bool] = lambda turn: True) -> dict | None:
    """Steady's most recent reply in the history (that `where` accepts), or None: the one backwards scan
    the engine, the stored conversations and the page share."""
    return next((turn for turn in reversed(history) if turn.get("role") == "steady" and where(turn)), None)


def _offered(session: Session) -> list[str]:
    """The quick replies of Steady's last answer."""
    last = last_reply(session.history)
    return list(last.get("choices") or []) if last else list(texts("ask")["choices"])


def _earlier(session: Session) -> list[str]:
    """The person's last messages before this one, since the last crisis reply (the crisis check reads them
    with it: a signal can be spread over two messages, but one already answered must not colour the next)."""
    said: list[str] = []
    for turn in session.history[:-1]:
        if turn.get("role") == "steady" and turn.get("mode") == "crisis":
            said = []
        elif turn.get("role") == "user" and turn.get("text") and not turn["text"].startswith("/"):
            said.append(turn["text"])
    return said[-safety.EARLIER:]


def _last_flow_reply(session: Session) -> dict | None:
    """The last thing the current flow asked (before a crisis pause or a command), if any."""
    return last_reply(session.history, lambda turn: turn["mode"] == session.mode and bool(turn.get("choices"))
                      and "export" not in turn.get("state", {}) and not turn.get("state", {}).get("paused"))


def _current_choices(session: Session) -> list[str]:
    """Quick replies that keep a flow going after a command like /help or /export."""
    pending = _last_flow_reply(session) if session.mode != "ask" else None
    return list(pending["choices"]) if pending else list(texts("ask")["choices"])


def readable(text: object) -> str:
    """The message as text a flow can use: control characters (binary junk) dropped, spaces trimmed."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")).strip()


def export_markdown(session: Session) -> str:
    lines = ["# Steady conversation", ""]
    for turn in session.history:
        who = "You" if turn["role"] == "user" else "Steady"
        lines += [f"**{who}:** {html.escape(turn['text'], quote=False)}", ""]  # no HTML of theirs runs where it's opened
        for c in turn.get("citations", []):
            lines.append(f"> [{c['n']}] {c['title']} — {c['section']}")
        if turn.get("citations"):
            lines.append("")
    return "\n".join(lines)
