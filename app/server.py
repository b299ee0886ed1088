"""`steady serve`: the page (app/web.py) and the API (app/api.py) behind the gate (app/gate.py), on uvicorn."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.engine import Engine
from app.gate import LOOPBACK_HOSTS, Gate, GateConfig, hostname, owner_of
from app.owners import SignIns, Users, server_key
from app.sessions import Conversations
from app.settings import Settings
from app.store import open_store

log = logging.getLogger("steady.server")


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for a server started next: the bench's, the tests')."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Access:
    """Who may use the server: sign-in users, a trusted proxy's user header, or (default) each browser itself."""

    users: Users | None = None
    proxy_header: str = ""
    proxy_addresses: frozenset[str] = frozenset()
    extra_hosts: frozenset[str] = frozenset()  # Host names besides loopback and --host (behind a proxy)


def gate_config(*, access: Access, host: str, data_dir: Path) -> GateConfig:
    hosts = set(LOOPBACK_HOSTS) | {hostname(h) for h in access.extra_hosts}
    if host not in ("0.0.0.0", "::", ""):
        hosts.add(hostname(host))
    return GateConfig(hosts=frozenset(hosts), users=access.users,
                      sign_ins=SignIns(key=server_key(data_dir)) if access.users else None,
                      proxy_header=access.proxy_header.lower(), proxy_addresses=access.proxy_addresses)


def make_app(*, conversations: Conversations, config: GateConfig):
    """The ASGI app: the gate around the API routes and the Gradio page mounted at '/'."""
    import gradio as gr
    from fastapi import FastAPI

    from app import api
    from app.web import CSS, FONT, FONT_MONO, HEAD, TURN_CONCURRENCY, build

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    api.routes(app, conversations=conversations)
    demo = build(conversations=conversations)
    demo.queue(default_concurrency_limit=TURN_CONCURRENCY)
    theme = gr.themes.Soft(primary_hue="teal", neutral_hue="slate", font=FONT, font_mono=FONT_MONO)
    app = gr.mount_gradio_app(
        app, demo, path="/", auth_dependency=lambda request: owner_of(request.scope), footer_links=[],
        show_error=False, ssr_mode=False, pwa=False, mcp_server=False, theme=theme, css=CSS, head=HEAD,
        # Gradio 6 would keep each run's inputs and outputs (the person's words, the whole chat) in the
        # browser's localStorage, and offer to upload them to a Hugging Face bucket.
        run_history=False,
    )
    return Gate(app, config=config)


def follow_index(*, engine: Engine, settings: Settings, stop: threading.Event) -> None:
    """A worker of a team's deployment: when `steady ingest` points the Chroma server at a new version,
    load it and answer from it. While the server is unreachable, the version in memory goes on answering."""
    from app.retrieval import Retriever
    from ingest.index import Index

    trouble = ""
    while not stop.wait(settings.index_check_seconds):
        try:
            index = Index(data_dir=settings.data_dir, server=settings.chroma_url, embedder=engine.retriever.index.embedder)
            if index.version() != engine.retriever.version:
                engine.use(Retriever(index=index))
                log.warning("answering from the new index version %s", engine.retriever.version)
            trouble = ""
        except Exception as exc:  # noqa: BLE001 - the worker keeps answering from the index it has
            if str(exc) != trouble:
                log.warning("could not check the index for a new version (%s); answering from the loaded one", exc)
            trouble = str(exc)


def serve(*, engine: Engine, settings: Settings, host: str, port: int, access: Access,
          ready: Callable[[str], None]) -> None:
    """Start the web app, call `ready` with its URL, and block until stopped (Ctrl+C or SIGTERM)."""
    data_dir = settings.data_dir
    # Gradio's own scratch files go in the data folder, not the shared /tmp. Read when it is imported.
    os.environ["GRADIO_TEMP_DIR"] = str(data_dir / "web-cache")
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))  # OSError here: the port is taken (the CLI says so)

    engine.warm_up()  # the one-off costs, paid before the first person arrives
    store = open_store(data_dir=data_dir, database_url=settings.database_url)
    conversations = Conversations(engine=engine, store=store)
    app = make_app(conversations=conversations, config=gate_config(access=access, host=host, data_dir=data_dir))
    # proxy_headers off: X-Forwarded-For from a local program must not make it look like the trusted proxy.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                           timeout_graceful_shutdown=5, proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    stop = threading.Event()
    if settings.chroma_url:
        threading.Thread(target=follow_index, kwargs={"engine": engine, "settings": settings, "stop": stop},
                         daemon=True).start()
    try:
        while not server.started and thread.is_alive():
            thread.join(0.05)
        if server.started:
            ready(f"http://{'[' + host + ']' if ':' in host else host}:{port}")
        while thread.is_alive():
            thread.join(0.5)
    finally:
        stop.set()
        server.should_exit = True
        thread.join(10)
        store.close()
