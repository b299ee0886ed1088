"""Stored conversations (app/sessions.py) and what the page shows (app/web.py), without a browser."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from app import sessions as sessions_module
from app.engine import Engine
from app.prompts import texts
from app.reply import Reply
from app.sessions import Conversations
from app.store import NotYourSession, StoreFull
from app.store_sqlite import SQLiteStore
from app.web import chat_messages, checkin_html, feedback_values, script_markdown, sources_html

SID = "0123456789abcdef0123456789abcdef"
ME = "browser:" + "1" * 40


@pytest.fixture
def make(tmp_path: Path, retriever):
    def make_conversations(engine: Engine | None = None) -> Conversations:
        return Conversations(engine=engine or Engine(retriever=retriever), store=SQLiteStore(path=tmp_path / "sessions.db"))

    return make_conversations


class StreamingEngine(Engine):
    """The real engine, but its answers arrive in pieces first, as they do from a model."""

    def stream(self, session, text):
        yield from ("Here ", "is ", "a partial ", "answer")
        yield from super().stream(session, text)


def test_the_message_is_stored_before_the_engine_answers(make, retriever) -> None:
    seen: list[list[str]] = []

    class Observing(Engine):
        def stream(self, session, text):
            seen.append([m.body["text"] for m in conversations.store.messages(owner=ME, session_id=session.session_id)])
            yield from super().stream(session, text)

    conversations = make(Observing(retriever=retriever))
    reply = conversations.send(SID, "should I quit or transfer?", owner=ME)
    assert seen == [["should I quit or transfer?"]]
    stored = conversations.store.messages(owner=ME, session_id=SID)
    assert [m.body["role"] for m in stored] == ["user", "steady"]
    assert stored[1].body["text"] == reply.text and reply.citations
    assert stored[1].body["citations"] == reply.citations


def test_a_session_resumes_with_its_follow_up_memory_after_a_restart(make) -> None:
    make().send(SID, "should I quit or transfer?", owner=ME)
    again = make()  # a new process: new store object on the same file
    reply = again.send(SID, "what about if I'm junior?", owner=ME)
    assert reply.state["follow_up"]  # read as leaning on the question asked before the restart
    assert [m.body["role"] for m in again.store.messages(owner=ME, session_id=SID)] == ["user", "steady"] * 2
    assert len(again.load(SID, ME).history) == 4


def test_a_reply_cut_off_mid_stream_is_stored_as_far_as_it_got(make, retriever) -> None:
    conversations = make(StreamingEngine(retriever=retriever))
    turn = conversations.turn(SID, "should I quit or transfer?", owner=ME)
    assert [next(turn), next(turn)] == ["Here ", "is "]
    turn.close()  # the page was closed
    stored = conversations.store.messages(owner=ME, session_id=SID)
    assert [m.body["text"] for m in stored] == ["should I quit or transfer?", "Here is "]
    assert stored[1].complete is False and stored[1].body["interrupted"] is True
    assert "cut off" in chat_messages([m.body for m in stored])[1]["content"]
    # The session goes on normally afterwards.
    assert conversations.send(SID, "what should I learn?", owner=ME).citations
    assert len(conversations.store.messages(owner=ME, session_id=SID)) == 4


def test_a_reply_being_streamed_is_already_on_disk(make, retriever, monkeypatch) -> None:
    monkeypatch.setattr(sessions_module, "PARTIAL_SAVE_SECONDS", 0.0)
    conversations = make(StreamingEngine(retriever=retriever))
    turn = conversations.turn(SID, "should I quit or transfer?", owner=ME)
    for _ in range(3):
        next(turn)
    # Still streaming: a kill now would leave this on disk.
    reader = SQLiteStore(path=conversations.store.path)
    assert reader.messages(owner=ME, session_id=SID)[-1].body["text"].startswith("Here is")
    reply = [item for item in turn if isinstance(item, Reply)][0]
    final = reader.messages(owner=ME, session_id=SID)
    assert len(final) == 2 and final[1].complete and final[1].body["text"] == reply.text


def test_an_engine_fault_becomes_a_calm_stored_reply(make, retriever, caplog) -> None:
    class Broken(Engine):
        def stream(self, session, text):
            raise RuntimeError(f"boom while reading {text}")
            yield  # pragma: no cover

    conversations = make(Broken(retriever=retriever))
    reply = conversations.send(SID, "my secret words", owner=ME)
    assert reply.text == texts("web")["turn_failed"]
    assert [m.body["text"] for m in conversations.store.messages(owner=ME, session_id=SID)] == ["my secret words", reply.text]
    assert "RuntimeError" in caplog.text and "my secret words" not in caplog.text


def test_downloads_are_rendered_for_their_owner_only_and_escape_html(make) -> None:
    conversations = make()
    words = texts("rehearse")
    for message in ("/rehearse", "60", "the <img src=x onerror=alert(1)> migration", words["skip_rest_choice"],
                    "Practise with a busy manager", "I've averaged 60 hours a week for a month.", words["end_choice"]):
        conversations.send(SID, message, owner=ME)
    name, script = conversations.download(SID, owner=ME, kind="script")
    assert name == texts("web")["downloads"]["script_file"]
    assert "60 hours" in script and f"# {texts('web')['downloads']['email_heading']}" in script
    assert "<img" not in script and "&lt;img" in script  # opened anywhere, the person's text stays text
    assert "\n> I've averaged 60 hours" in script and "&gt;" not in script  # their line stays a Markdown quote
    assert conversations.download(SID, owner=ME, kind="ics")[1].startswith("BEGIN:VCALENDAR")
    assert conversations.download(SID, owner="browser:" + "2" * 40, kind="script") is None  # not theirs
    assert conversations.forget(owner=ME) == 1
    assert conversations.download(SID, owner=ME, kind="script") is None and conversations.history(ME) == []


def test_a_long_paste_is_stored_capped_with_a_notice(make) -> None:
    conversations = make()
    reply = conversations.send(SID, "I am so tired of the pipeline work. " * 3000, owner=ME)
    stored = conversations.store.messages(owner=ME, session_id=SID)
    assert len(stored[0].body["text"]) == sessions_module.MAX_STORED_CHARS
    assert "20,000" in reply.notice and stored[1].body["notice"] == reply.notice


def test_another_owner_can_neither_read_nor_write_a_conversation(make) -> None:
    conversations = make()
    conversations.send(SID, "my manager ignores the drift alerts", owner=ME)
    other = "browser:" + "2" * 40
    with pytest.raises(NotYourSession):
        conversations.send(SID, "let me in", owner=other)
    with pytest.raises(NotYourSession):
        conversations.load(SID, other)
    assert conversations.history(other) == [] and not conversations.feedback(SID, owner=other, seq=1, value="up")
    assert [m.body["text"] for m in conversations.store.messages(owner=ME, session_id=SID)][0] == \
        "my manager ignores the drift alerts"
    assert len(conversations.store.messages(owner=ME, session_id=SID)) == 2


def test_a_full_disk_keeps_nothing_half_written_and_says_so(make, monkeypatch) -> None:
    conversations = make()
    monkeypatch.setattr(sessions_module, "WRITE_RETRY_SECONDS", 0.0)

    def full(**_):
        raise StoreFull("full")

    monkeypatch.setattr(conversations.store, "add_message", full)
    with pytest.raises(StoreFull):
        conversations.send(SID, "my words", owner=ME)
    monkeypatch.undo()
    assert conversations.store.messages(owner=ME, session_id=SID) == []


def test_thumbs_land_on_the_answer_they_were_given_to(make) -> None:
    conversations = make()
    conversations.send(SID, "should I quit or transfer?", owner=ME)
    conversations.send(SID, "what should I learn?", owner=ME)
    assert conversations.feedback(SID, owner=ME, seq=3, value="down")
    stored = conversations.store.messages(owner=ME, session_id=SID)
    history = [m.body for m in stored]
    assert feedback_values(history, {m.seq: m.feedback for m in stored}) == [None, "Dislike"]


def test_the_checkin_chart_draws_what_was_raised_and_ranks_only_real_differences() -> None:
    state = {"pressures": {"workload": 0.8, "gpu_guilt": 0.1, "keeping_up": 0.36, "ethics_weight": 0.0,
                           "compute_constraints": 0.37},
             "top": ["workload"],
             "verdict": "structural", "scope": "role",
             "levers": [{"id": "focus", "title": "Focus on one core area", "text": "Pick one.", "n": 2}]}
    page = checkin_html(state)
    names = texts("web")["checkin"]["pressures"]
    # 0.37 and 0.36 are the same 4/10: drawn alike and listed by name, not ranked.
    assert page.index(names["workload"]) < page.index(names["compute_constraints"]) < page.index(names["keeping_up"])
    assert page.count('style="width: 40%"') == 2 and 'style="width: 80%"' in page
    assert "strongly, 8/10" in page and "a little, 4/10" in page
    assert 'steady-bar steady-bar-top" data-pressure="workload"' in page
    assert html.escape(texts("web")["checkin"]["verdicts"]["structural"]) in page
    assert "Focus on one core area" in page and "[2]" in page
    for quiet in ("gpu_guilt", "ethics_weight"):  # a trace of a score is not something the person raised
        assert f'data-pressure="{quiet}"' not in page
    folded = page.split('<details class="steady-quiet">', 1)[1]
    assert names["gpu_guilt"] in folded and names["ethics_weight"] in folded and names["workload"] not in folded
    assert "steady-chart" not in checkin_html({}) and "steady-chart" not in checkin_html({"pressures": {"workload": 0.1}})


def test_sources_are_numbered_escaped_and_formatted_with_the_quote_marked() -> None:
    page = sources_html([{"n": 2, "title": "A <b>title</b>", "section": "S",
                          "text": "x < y & z.\n- **Tight deadlines:** Projects slip. Teams rush.\n<script>no()</script>",
                          "quoted": ["Tight deadlines: Projects slip."]}])
    assert "[2] A &lt;b&gt;title&lt;/b&gt;" in page and "x &lt; y &amp; z" in page and "<details" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "**" not in page and "<li><strong><mark>Tight deadlines:</mark></strong><mark> Projects slip.</mark> Teams rush.</li>" in page


def test_a_rehearsal_stores_the_same_few_bytes_a_turn_and_renders_its_documents(make) -> None:
    conversations = make()
    words = texts("rehearse")
    for message in ("/rehearse", "62", "the feature store migration", words["skip_rest_choice"],
                    "Practise with a skeptical manager"):
        conversations.send(SID, message, owner=ME)
    sizes = []
    for i in range(30):  # thirty lines: several role-plays, each run again once it ends
        reply = conversations.send(SID, words["say_script_choice"] if i % 2 else "I've averaged 62 hours a week.",
                                   owner=ME)
        stored = conversations.store.messages(owner=ME, session_id=SID)[-1].body
        sizes.append(len(str(stored)))
        assert "script" not in stored["state"] and "feedback" not in stored["state"]
        assert reply.state["script"] and reply.state["feedback"]  # the reply itself still carries them
        if reply.state["stage"] == "debrief":
            conversations.send(SID, words["again_same_choice"], owner=ME)
    print(f"\nbytes stored per role-play reply: first five {sizes[:5]}, last five {sizes[-5:]}")
    assert max(sizes[-5:]) <= 1.2 * max(sizes[:5])  # flat: nothing grows with the conversation
    docs = sessions_module.rehearsal_documents(conversations.load(SID, ME))
    panel = script_markdown(docs)
    assert panel.startswith("# My script") and "62 hours" in panel and "the feature store migration" in panel
    assert script_markdown({}) == texts("web")["script"]["empty"]


def test_conversations_stored_before_the_flow_state_was_typed_go_on_where_they_were(make) -> None:
    """Sessions written by earlier versions ("asking": "probe:<pressure>", a rehearsal's "transcript")
    are read into the typed state and carry on: nothing a person had is lost in an upgrade."""
    conversations = make()
    store = conversations.store
    store.add_message(session_id=SID, owner=ME, mode="checkin", body={"role": "user", "text": "/checkin", "mode": "ask"})
    store.save_session(session_id=SID, owner=ME, mode="checkin", state={"checkin": {
        "step": "probe", "open": {"workload": 0.55}, "probed": {}, "queue": [], "test": {}, "asking": "probe:gpu_guilt"}})
    reply = conversations.send(SID, "Often", owner=ME)  # the answer to the GPU guilt question it was asking
    assert reply.mode == "checkin" and reply.state["step"] == "test"
    assert reply.state["pressures"]["gpu_guilt"] >= 0.7 and reply.state["pressures"]["workload"] > 0.4

    words, other = texts("rehearse"), "f" * 32
    for message in ("/rehearse", "62", words["skip_rest_choice"], "Practise with a skeptical manager",
                    "I've averaged 62 hours a week for two months."):
        conversations.send(other, message, owner=ME)
    typed = conversations.load(other, ME).rehearsal
    legacy = {k: v for k, v in typed.to_json().items() if k not in ("greeting", "answers")}
    legacy["transcript"] = typed.transcript
    store.save_session(session_id=other, owner=ME, mode="rehearse", state={"rehearse": legacy})
    reply = conversations.send(other, words["say_script_choice"], owner=ME)
    resumed = conversations.load(other, ME).rehearsal
    assert resumed.greeting == typed.greeting and resumed.answers[0] == typed.answers[0]
    assert [f["beat"] for f in resumed.feedback] == ["opening", "impact"] and reply.state["beat"] == "proposal"
    exported = conversations.send(other, "/export", owner=ME).state["export"]
    assert "62 hours a week for two months" in exported and typed.greeting in exported
