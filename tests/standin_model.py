"""A stand-in OpenAI-compatible model server on loopback: it streams the pieces it is given, and told
to, stalls after the first one. Shared by the tests that need a model to say something exact."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CITED = ["The guidance suggests a test you can run on your situation ", "[1], and then decide where to go. [1]"]


class StandInModel:
    def __init__(self, pieces: list[str] = CITED) -> None:
        self.pieces = list(pieces)
        self.stall = threading.Event()
        self.release = threading.Event()
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
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
                for i, piece in enumerate(model.pieces):
                    if i == 1 and model.stall.is_set():
                        model.release.wait(timeout=120)  # bounded: the test ends long before this
                        return
                    self.chunk(piece)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def chunk(self, text: str) -> None:
                payload = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "stand-in",
                           "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                        "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> StandInModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
