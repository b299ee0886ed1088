"""Stored conversations (app/sessions.py) and what the page shows (app/web.py), without a browser."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from app import sessions as sessions_module
from app.engine import Engine
from app.prompts import texts
from app.reply import Reply
from app.sessions import Conversations, latest_state
from app.store import Store
from app.web import chat_messages, checkin_html, feedback_values, script_markdown, sources_html

SID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def make(tmp_path: Path, retriever):
    def make_conversations(engine: Engine | None = None) -> Conversations:
        return Conversations(engine=engine or Engine(retriever=retriever), store=Store(path=tmp_path / "sessions.db"),
                             files_dir=tmp_path / "downloads")

    return make_conversations


class StreamingEngine(Engine):
    """The real engine, but its answers arrive in pieces first, as they do from a model."""

    def stream(self, session, text):
        for piece in ("Here ", "is ", "a partial ", "answer"):
            yield piece
        yield from super().stream(session, text)


def test_the_message_is_stored_before_the_engine_answers(make, retriever) -> None:
    seen: list[list[str]] = []

    class Observing(Engine):
        def stream(self, session, text):
            seen.append([m.body["text"] for m in conversations.store.messages(session_id=session.session_id)])
            yield from super().stream(session, text)

    conversations = make(Observing(retriever=retriever))
    reply = conversations.send(SID, "should I quit or transfer?")
    assert seen == [["should I quit or transfer?"]]
    stored = conversations.store.messages(session_id=SID)
    assert [m.body["role"] for m in stored] == ["user", "steady"]
    assert stored[1].body["text"] == reply.text and reply.citations
    assert stored[1].body["citations"] == reply.citations


def test_a_session_resumes_with_its_follow_up_memory_after_a_restart(make) -> None:
    make().send(SID, "should I quit or transfer?")
    again = make()  # a new process: new store object on the same file
    reply = again.send(SID, "what about if I'm junior?")
    assert reply.text.startswith(texts("ask")["followup_opener"])
    assert [m.body["role"] for m in again.store.messages(session_id=SID)] == ["user", "steady"] * 2
    assert len(again.load(SID).history) == 4


def test_a_reply_cut_off_mid_stream_is_stored_as_far_as_it_got(make, retriever) -> None:
    conversations = make(StreamingEngine(retriever=retriever))
    turn = conversations.turn(SID, "should I quit or transfer?")
    assert [next(turn), next(turn)] == ["Here ", "is "]
    turn.close()  # the page was closed
    stored = conversations.store.messages(session_id=SID)
    assert [m.body["text"] for m in stored] == ["should I quit or transfer?", "Here is "]
    assert stored[1].complete is False and stored[1].body["interrupted"] is True
    assert "cut off" in chat_messages([m.body for m in stored])[1]["content"]
    # The session goes on normally afterwards.
    assert conversations.send(SID, "what should I learn?").citations
    assert len(conversations.store.messages(session_id=SID)) == 4


def test_a_reply_being_streamed_is_already_on_disk(make, retriever, monkeypatch) -> None:
    monkeypatch.setattr(sessions_module, "PARTIAL_SAVE_SECONDS", 0.0)
    conversations = make(StreamingEngine(retriever=retriever))
    turn = conversations.turn(SID, "should I quit or transfer?")
    for _ in range(3):
        next(turn)
    # Still streaming: a kill now would leave this on disk.
    reader = Store(path=conversations.store.path)
    assert reader.messages(session_id=SID)[-1].body["text"].startswith("Here is")
    reply = [item for item in turn if isinstance(item, Reply)][0]
    final = reader.messages(session_id=SID)
    assert len(final) == 2 and final[1].complete and final[1].body["text"] == reply.text


def test_an_engine_fault_becomes_a_calm_stored_reply(make, retriever, caplog) -> None:
    class Broken(Engine):
        def stream(self, session, text):
            raise RuntimeError(f"boom while reading {text}")
            yield  # pragma: no cover

    conversations = make(Broken(retriever=retriever))
    reply = conversations.send(SID, "my secret words")
    assert reply.text == texts("web")["turn_failed"]
    assert [m.body["text"] for m in conversations.store.messages(session_id=SID)] == ["my secret words", reply.text]
    assert "RuntimeError" in caplog.text and "my secret words" not in caplog.text


def test_downloads_hold_the_script_feedback_email_and_calendar(make) -> None:
    conversations = make()
    session = conversations.load(SID)
    session.history = [
        {"role": "user", "text": "/rehearse", "mode": "ask"},
        {"role": "steady", "mode": "rehearse", "text": "done", "state": {
            "script": "I've been working 60 hours a week on the pipeline.", "summary": "You used data well.",
            "email": "Hi Sam, thanks for today.", "ics": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}},
    ]
    files = conversations.downloads(session)
    script = files["script"].read_text(encoding="utf-8")
    assert "60 hours a week" in script and "You used data well." in script and "Hi Sam" in script
    assert files["ics"].read_bytes() == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    conversations.send(SID, "hello")
    conversations.delete_everything()
    assert not files["script"].exists() and conversations.store.sessions() == []


def test_thumbs_land_on_the_answer_they_were_given_to(make) -> None:
    conversations = make()
    conversations.send(SID, "should I quit or transfer?")
    conversations.send(SID, "what should I learn?")
    assert conversations.feedback(SID, seq=3, value="down")
    stored = conversations.store.messages(session_id=SID)
    history = [m.body for m in stored]
    assert feedback_values(history, {m.seq: m.feedback for m in stored}) == [None, "Dislike"]


def test_the_checkin_chart_ranks_pressures_and_names_them() -> None:
    state = {"pressures": {"workload": 0.8, "gpu_guilt": 0.1, "keeping_up": 0.45, "ethics_weight": 0.0},
             "top": ["workload"],
             "verdict": "structural", "scope": "role",
             "levers": [{"id": "focus", "title": "Focus on one core area", "text": "Pick one.", "n": 2}]}
    page = checkin_html(state)
    names = texts("web")["checkin"]["pressures"]
    assert page.index(names["workload"]) < page.index(names["keeping_up"]) < page.index(names["gpu_guilt"])
    assert 'width: 80%' in page and 'steady-bar steady-bar-top" data-pressure="workload"' in page
    assert html.escape(texts("web")["checkin"]["verdicts"]["structural"]) in page
    assert "Focus on one core area" in page and "[2]" in page
    assert 'data-pressure="ethics_weight"' not in page  # not drawn, but named as not mentioned yet
    assert html.escape(texts("web")["checkin"]["not_mentioned"].format(names=names["ethics_weight"])) in page
    assert "steady-chart" not in checkin_html({}) and "steady-chart" not in checkin_html({"pressures": {"workload": 0}})


def test_sources_are_numbered_and_escaped() -> None:
    page = sources_html([{"n": 2, "title": "A <b>title</b>", "section": "S", "text": "x < y & z"}])
    assert "[2] A &lt;b&gt;title&lt;/b&gt;" in page and "x &lt; y &amp; z" in page and "<details" in page


def test_script_panel_shows_the_latest_script_with_its_email() -> None:
    history = [{"role": "steady", "state": {"script": "old"}}, {"role": "user", "text": "x"},
               {"role": "steady", "state": {"script": "# My script\n\nnew", "email": "Dear Sam"}}]
    state = latest_state(history, "script")
    panel = script_markdown(state)
    assert panel.startswith("# My script") and "old" not in panel
    assert f"# {texts('web')['downloads']['email_heading']}\n\nDear Sam" in panel
    assert script_markdown({}) == texts("web")["script"]["empty"]
