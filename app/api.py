"""The HTTP API beside the page: one turn as JSON, the owner's conversations, and downloads.

Every route acts for the owner app/gate.py found for the request (a browser's `steady_owner`
cookie, an `Authorization: Bearer <token>` of 32+ URL-safe characters, a signed-in user or a
trusted proxy's user) and answers 403, writing nothing, for a conversation that is someone else's.
"""

# No postponed annotations here: FastAPI reads the `Request` annotations of the routes at run time.

import json
import uuid

from app.gate import owner_of
from app.prompts import texts
from app.sessions import MAX_STORED_CHARS, Conversations
from app.store import NotYourSession, StoreFull
from app.web import session_id_ok

MEDIA = {"script": "text/markdown; charset=utf-8", "ics": "text/calendar; charset=utf-8"}


def routes(app, *, conversations: Conversations) -> None:
    """Add the API routes to the FastAPI app (before Gradio is mounted at '/')."""
    from fastapi import Request
    from fastapi.responses import JSONResponse, Response
    from starlette.concurrency import run_in_threadpool

    words = texts("web")["api"]

    def error(status: int, key: str) -> JSONResponse:
        return JSONResponse({"error": words[key]}, status_code=status)

    @app.post("/api/chat")
    async def chat(request: Request):
        """{"text": "...", "session_id": "" or an id of yours} → the reply as `steady chat --jsonl` gives it."""
        who = owner_of(request.scope)
        try:
            body = json.loads(await request.body())
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return error(400, "bad_request")
        session_id = body.get("session_id") or uuid.uuid4().hex
        if not session_id_ok(session_id):
            return error(400, "bad_session")
        if not conversations.owns(session_id, who):
            return error(403, "not_yours")
        try:
            reply = await run_in_threadpool(conversations.send, session_id, body["text"][:MAX_STORED_CHARS + 1],
                                            owner=who)
        except NotYourSession:
            return error(403, "not_yours")
        except StoreFull:
            return error(507, "disk_full")
        return JSONResponse({"session_id": session_id, **reply.to_json()})

    @app.get("/api/sessions")
    async def sessions(request: Request):
        who = owner_of(request.scope)
        return JSONResponse([{"session_id": s.session_id, "title": s.title, "updated": s.updated,
                              "messages": s.messages} for s in conversations.history(who)])

    @app.get("/api/sessions/{session_id}")
    async def session(session_id: str, request: Request):
        who = owner_of(request.scope)
        if not session_id_ok(session_id):
            return error(400, "bad_session")
        found = conversations.store.owner_of(session_id=session_id)
        if found != who:
            return error(404 if found is None else 403, "not_yours")
        return JSONResponse({"session_id": session_id, "messages": conversations.load(session_id, who).history})

    @app.get("/download/{session_id}/{kind}")
    async def download(session_id: str, kind: str, request: Request):
        who = owner_of(request.scope)
        if not session_id_ok(session_id) or kind not in MEDIA:
            return error(404, "no_download")
        if conversations.store.owner_of(session_id=session_id) not in (None, who):
            return error(403, "not_yours")
        found = conversations.download(session_id, owner=who, kind=kind)
        if found is None:
            return error(404, "no_download")
        name, content = found
        return Response(content.encode("utf-8"), media_type=MEDIA[kind],
                        headers={"content-disposition": f'attachment; filename="{name}"'})
