"""SIGKILL the server in the middle of a streamed answer: nothing written before the kill is lost."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import expect
from webpage import BOTS, DESKTOP, USERS, open_app, page_owner, screenshot, send, wait_for_answer

from app.store import Store

FIRST_PIECE = "The guidance suggests a test you can run on your situation "


class Model:
    """A stand-in OpenAI-compatible model server on loopback that streams; told to, it stalls mid-answer."""

    def __init__(self) -> None:
        self.stall = threading.Event()
        self.release = threading.Event()
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output clean
                pass

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not request.get("stream"):  # e.g. rewriting a follow-up question: answer "no rewrite"
                    body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "stand-in",
                                       "choices": [{"index": 0, "finish_reason": "stop",
                                                    "message": {"role": "assistant", "content": ""}}]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.chunk(FIRST_PIECE)
                if model.stall.is_set():
                    model.release.wait(timeout=120)  # bounded: the test kills Steady long before this
                    return
                self.chunk("[1], and then decide where to go. [1]")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def chunk(self, text: str) -> None:
                payload = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "stand-in",
                           "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                        "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_kill_mid_answer_leaves_the_session_readable_and_resumable(browser, server_factory) -> None:
    model = Model()
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
        wait_for_answer(page, count=2, choices=False)  # the first words of the second answer are on screen...
        expect(page.locator(BOTS).nth(1)).to_contain_text("The guidance suggests")
        server.kill()  # ...and the server dies mid-answer: no clean-up, no shutdown hooks

        db = server.data_dir / "sessions.db"
        assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store, me = Store(path=db), page_owner(page)
        (session,) = store.sessions(owner=me)
        stored = store.messages(owner=me, session_id=session.session_id)
        assert [m.body["text"] for m in stored[::2]] == [
            "Should I quit or transfer to another team?", "How do I tell if it's situational or structural?"]
        assert stored[1].complete and stored[1].body["citations"]
        # What had been streamed (and shown) when the server died is on disk.
        assert stored[3].complete is False and stored[3].body["text"].startswith("The guidance suggests")

        server.start(env={"STEADY_LLM": "none"})  # back up, this time without the model
        page.reload()
        open_app(page, server.url)
        expect(page.locator(USERS)).to_have_count(2)
        expect(page.locator(BOTS).nth(1)).to_contain_text("cut off")
        again = send(page, "Should I quit or transfer to another team?")
        assert "[1]" in again  # the conversation carries on
        expect(page.locator(USERS)).to_have_count(3)
        screenshot(page, "kill-resumed")
    finally:
        model.close()
