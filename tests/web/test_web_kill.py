"""SIGKILL the server in the middle of a streamed answer: nothing written before the kill is lost."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect
from standin_model import CITED, StandInModel
from webpage import BOTS, DESKTOP, USERS, open_app, page_owner, screenshot, send, wait_for_answer

from app.store_sqlite import SQLiteStore

FIRST_PIECE = CITED[0]


def test_a_kill_mid_answer_leaves_the_session_readable_and_resumable(browser, server_factory) -> None:
    model = StandInModel()
    try:
        server = server_factory(env={"STEADY_LLM": "openai:stand-in", "OPENAI_BASE_URL": model.base_url,
                                     "STEADY_LLM_TIMEOUT": "60"}).start()
        page = browser.new_context(viewport=DESKTOP).new_page()
        open_app(page, server.url)
        first = send(page, "Should I quit or transfer to another team?")
        assert first.startswith(FIRST_PIECE.strip())  # the model's streamed answer

        model.stall.set()
        page.fill("#steady-input textarea", "How do I tell if it's situational or structural?")
        page.press("#steady-input textarea", "Enter")
        wait_for_answer(page, count=4, choices=False)  # the first words of the second answer are on screen...
        expect(page.locator(BOTS).nth(1)).to_contain_text("The guidance suggests")
        server.kill()  # ...and the server dies mid-answer: no clean-up, no shutdown hooks

        db = server.data_dir / "sessions.db"
        assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store, me = SQLiteStore(path=db), page_owner(page)
        (session,) = store.sessions(owner=me)
        stored = store.messages(owner=me, session_id=session.session_id)
        assert [m.body["text"] for m in stored[::2]] == [
            "Should I quit or transfer to another team?", "How do I tell if it's situational or structural?"]
        assert stored[1].complete and stored[1].body["citations"]
        # What had been streamed (and shown) when the server died is on disk.
        assert stored[3].complete is False and stored[3].body["text"].startswith("The guidance suggests")

        server.start(env={"STEADY_LLM": "none"})  # back up, this time without the model
        # open_app navigates afresh; a reload here could race the page's own reconnect and be aborted.
        open_app(page, server.url)
        expect(page.locator(USERS)).to_have_count(2)
        expect(page.locator(BOTS).nth(1)).to_contain_text("cut off")
        again = send(page, "Should I quit or transfer to another team?")
        assert "[1]" in again  # the conversation carries on
        expect(page.locator(USERS)).to_have_count(3)
        screenshot(page, "kill-resumed")
    finally:
        model.close()
