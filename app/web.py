"""The web page: Steady in the browser, a thin Gradio layer over `Conversations`.

The chat (streamed when a model writes), quick-reply buttons that follow the reply's `choices`, and
side tabs: Sources, Check-in (a chart drawn in plain HTML so nothing loads from elsewhere), Script
(with downloads) and History (resume, delete everything). The browser keeps only its session id,
encrypted in localStorage with a key kept in the data folder, so a page reopened after a server
restart finds its conversation again. Flows never import this module; Gradio is imported lazily.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from app.engine import Engine
from app.prompts import texts
from app.sessions import Conversations, latest_citations, latest_state, script_document
from app.store import Store

QUICK_REPLY_SLOTS = 6
# Throwaway turns answered (and not stored) before the server opens, so what loads lazily on a
# first use (phrase banks, prompt files) is not paid by the first person's first message.
TURN_CONCURRENCY = 4  # turns answered at once; more only queue for the 2 cores
PANEL_FOR_MODE = {"ask": "sources", "checkin": "checkin", "rehearse": "script"}  # the tab a reply opens
_SESSION_ID = re.compile(r"[0-9a-f]{32}")
# System fonts only: a web font would be fetched from another host when the page loads.
FONT = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
FONT_MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")

CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto !important; }
#steady-header h1 { font-size: 1.35rem; margin: 0.2rem 0 0; font-weight: 600; }
#steady-header p { margin: 0.15rem 0 0.4rem; opacity: 0.75; font-size: 0.92rem; }
#steady-chat button[aria-label="Clear"] { display: none; }  /* would clear the view, not the stored session */
#steady-quick { gap: 0.4rem; flex-wrap: wrap; }
#steady-quick button { flex: 0 1 auto !important; min-width: 0 !important; white-space: normal; }
.steady-muted { opacity: 0.75; font-size: 0.92rem; line-height: 1.5; }
.steady-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.5rem 0.7rem; margin: 0 0 0.5rem; }
.steady-source summary { cursor: pointer; font-weight: 600; line-height: 1.4; }
.steady-source .steady-section { font-weight: 400; opacity: 0.75; }
.steady-source p { margin: 0.5rem 0 0; line-height: 1.55; white-space: pre-wrap; }
.steady-chart { display: grid; grid-template-columns: minmax(7rem, 11rem) 1fr; gap: 0.45rem 0.7rem; align-items: center; margin: 0.6rem 0; }
.steady-bar-label { font-size: 0.9rem; line-height: 1.25; }
.steady-bar-track { background: var(--background-fill-secondary); border-radius: 6px; height: 0.9rem; overflow: hidden; }
.steady-bar-fill { display: block; height: 100%; border-radius: 6px; background: var(--color-accent); opacity: 0.85; }
.steady-bar-top .steady-bar-label { font-weight: 600; }
.steady-verdict { border-left: 3px solid var(--color-accent); padding: 0.3rem 0.7rem; margin: 0.8rem 0; line-height: 1.5; }
#steady-script h1 { font-size: 1.3rem; } #steady-script h2 { font-size: 1.1rem; } #steady-script h3 { font-size: 1rem; }
.steady-levers li { margin-bottom: 0.45rem; line-height: 1.5; }
@media (max-width: 640px) {
  .gradio-container { padding: 0 0.4rem !important; }
  .steady-chart { grid-template-columns: 8rem 1fr; }
}
"""


def session_id_ok(value: object) -> bool:
    return isinstance(value, str) and bool(_SESSION_ID.fullmatch(value))


# --- what each part of the page shows, as plain data (tested without a browser) ------------------

def chat_messages(history: list[dict]) -> list[dict]:
    """The conversation as Gradio chat messages, one per stored message (so index == position)."""
    words = texts("web")
    out = []
    for turn in history:
        if turn.get("role") == "user":
            out.append({"role": "user", "content": turn.get("text", "")})
            continue
        parts = [turn.get("text", "")]
        if turn.get("notice"):
            parts.append(f"_{turn['notice']}_")
        if turn.get("interrupted"):
            parts.append(f"_{words['interrupted']}_")
        out.append({"role": "assistant", "content": "\n\n".join(p for p in parts if p)})
    return out


def feedback_values(history: list[dict], feedback: dict[int, str | None]) -> list[str | None]:
    """Gradio's per-answer feedback list ("Like"/"Dislike"/None), in order of Steady's answers."""
    shown = {"up": "Like", "down": "Dislike"}
    return [shown.get(feedback.get(i) or "") for i, turn in enumerate(history) if turn.get("role") != "user"]


def last_mode(history: list[dict]) -> str | None:
    return next((turn.get("mode") for turn in reversed(history) if turn.get("role") == "steady"), None)


def current_choices(history: list[dict], welcome_choices: list[str]) -> list[str]:
    """The latest reply's quick replies; the opening ones before any reply or after a cut-off one."""
    for turn in reversed(history):
        if turn.get("role") == "steady" and not turn.get("interrupted"):
            return list(turn.get("choices") or [])
        if turn.get("role") == "steady":
            break
    return list(welcome_choices)


def sources_html(citations: list[dict]) -> str:
    words = texts("web")["sources"]
    if not citations:
        return f'<p class="steady-muted">{html.escape(words["empty"])}</p>'
    items = [f'<p class="steady-muted">{html.escape(words["intro"])}</p>']
    for c in citations:
        items.append(
            f'<details class="steady-source" data-n="{int(c["n"])}"><summary>[{int(c["n"])}] {html.escape(c["title"])}'
            f' <span class="steady-section">— {html.escape(c["section"])}</span></summary>'
            f'<p>{html.escape(c["text"])}</p></details>'
        )
    return "\n".join(items)


def checkin_html(state: dict) -> str:
    """A bar chart of the pressure scores, the verdict and the levers (HTML and CSS, nothing fetched)."""
    words = texts("web")["checkin"]
    pressures = state.get("pressures") or {}
    if not pressures:
        return f'<p class="steady-muted">{html.escape(words["empty"])}</p>'
    top = set(state.get("top") or [])
    names = {pid: words["pressures"].get(pid, pid.replace("_", " ")) for pid in pressures}
    ranked = sorted(pressures.items(), key=lambda item: (-float(item[1]), item[0]))
    rows, quiet = [], []
    for pid, score in ranked:
        share = max(0.0, min(1.0, float(score)))
        if share < 0.005:  # nothing said about it yet: named under the chart, not drawn as an empty bar
            quiet.append(names[pid])
            continue
        label = html.escape(names[pid])
        rows.append(
            f'<div class="steady-bar{" steady-bar-top" if pid in top else ""}" data-pressure="{html.escape(pid)}"'
            f' data-score="{share:.2f}" style="display: contents">'
            f'<span class="steady-bar-label">{label}</span>'
            f'<span class="steady-bar-track" role="img" aria-label="{label}: {round(share * 100)}%">'
            f'<span class="steady-bar-fill" style="width: {max(share * 100, 2):.0f}%"></span></span></div>'
        )
    parts = [f"<h3>{html.escape(words['chart_title'])}</h3>",
             f'<p class="steady-muted">{html.escape(words["chart_note"])}</p>']
    if rows:
        parts.append(f'<div class="steady-chart">{"".join(rows)}</div>')
        if quiet:
            parts.append(f'<p class="steady-muted">{html.escape(words["not_mentioned"].format(names=", ".join(quiet)))}</p>')
    else:
        parts.append(f'<p class="steady-muted">{html.escape(words["nothing_yet"])}</p>')
    verdict = words["verdicts"].get(state.get("verdict") or "")
    if verdict:
        scope = words["scopes"].get(state.get("scope") or "", "")
        parts.append(f'<h3>{html.escape(words["verdict_heading"])}</h3>'
                     f'<p class="steady-verdict">{html.escape(verdict)} {html.escape(scope)}</p>')
    levers = state.get("levers") or []
    if levers:
        items = "".join(
            f'<li><strong>{html.escape(lever.get("title", ""))}</strong> — {html.escape(lever.get("text", ""))}'
            + (f' [{int(lever["n"])}]' if lever.get("n") else "") + "</li>"
            for lever in levers
        )
        parts.append(f'<h3>{html.escape(words["levers_heading"])}</h3><ul class="steady-levers">{items}</ul>')
    return "\n".join(parts)


def script_markdown(state: dict) -> str:
    return script_document(state) if state.get("script") else texts("web")["script"]["empty"]


def history_choices(store: Store) -> list[tuple[str, str]]:
    words = texts("web")["history"]
    choices = []
    for s in store.sessions():
        when = time.strftime("%d %b %H:%M", time.localtime(s.updated))
        title = s.title or words["untitled"]
        choices.append((f"{title} · {when} · {words['messages'].format(n=s.messages)}", s.session_id))
    return choices


# --- the page ------------------------------------------------------------------------------------

def build(*, conversations: Conversations, secret: str, cache_dir: Path | None = None):
    """The Gradio Blocks app. `secret` encrypts the session id kept in the browser."""
    import gradio as gr

    words = texts("web")
    welcome = conversations.engine.welcome()
    new_id = lambda: uuid.uuid4().hex  # noqa: E731

    with gr.Blocks(title=words["title"], analytics_enabled=False) as demo:
        sid = gr.BrowserState(None, storage_key="steady-session", secret=secret)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                gr.Markdown(f"# {words['title']}\n{words['tagline']}", elem_id="steady-header")
                chat = gr.Chatbot(
                    label=words["title"], show_label=False, height="62vh", min_height=320, layout="bubble",
                    placeholder=welcome.text, feedback_options=("Like", "Dislike"), buttons=["copy"],
                    elem_id="steady-chat",
                )
                with gr.Row(elem_id="steady-quick"):
                    slots = [gr.Button(visible=False, size="sm", variant="secondary", elem_classes="steady-choice")
                             for _ in range(QUICK_REPLY_SLOTS)]
                box = gr.Textbox(show_label=False, placeholder=words["input_placeholder"], lines=1, max_lines=6,
                                 submit_btn=words["send"], autofocus=True, elem_id="steady-input")
            with gr.Column(scale=2, min_width=300):
                with gr.Tabs(elem_id="steady-tabs") as tabs:
                    with gr.Tab(words["tabs"]["sources"], id="sources", elem_id="tab-sources"):
                        sources = gr.HTML(sources_html([]), elem_id="steady-sources")
                    with gr.Tab(words["tabs"]["checkin"], id="checkin", elem_id="tab-checkin"):
                        checkin = gr.HTML(checkin_html({}), elem_id="steady-checkin")
                    with gr.Tab(words["tabs"]["script"], id="script", elem_id="tab-script"):
                        with gr.Row():  # above the script: the script and its feedback run long
                            dl_script = gr.DownloadButton(words["script"]["download_script"], visible=False,
                                                          size="sm", elem_id="steady-download-script")
                            dl_ics = gr.DownloadButton(words["script"]["download_ics"], visible=False,
                                                       size="sm", elem_id="steady-download-ics")
                        script = gr.Markdown(script_markdown({}), elem_id="steady-script")
                    with gr.Tab(words["tabs"]["history"], id="history", elem_id="tab-history"):
                        gr.Markdown(words["history"]["intro"], elem_classes="steady-muted")
                        past = gr.Radio([], label=words["history"]["label"], elem_id="steady-history")
                        with gr.Row():
                            open_btn = gr.Button(words["history"]["open"], size="sm", elem_id="steady-open")
                            new_btn = gr.Button(words["history"]["new"], size="sm", elem_id="steady-new")
                        delete_btn = gr.Button(words["history"]["delete"], size="sm", variant="stop",
                                               elem_id="steady-delete")
                        with gr.Group(visible=False) as confirm:
                            gr.Markdown(words["history"]["delete_warning"])
                            with gr.Row():
                                confirm_btn = gr.Button(words["history"]["delete_confirm"], size="sm",
                                                        variant="stop", elem_id="steady-delete-confirm")
                                cancel_btn = gr.Button(words["history"]["delete_cancel"], size="sm",
                                                       elem_id="steady-delete-cancel")
                        deleted = gr.Markdown(visible=False, elem_id="steady-deleted")

        view_outputs = [chat, *slots, tabs, sources, checkin, script, dl_script, dl_ics, past]

        def view(session_id: str) -> dict:
            """Every part of the page for this session, from what is stored."""
            session = conversations.load(session_id)
            feedback = {m.seq: m.feedback for m in conversations.store.messages(session_id=session_id)}
            choices = current_choices(session.history, welcome.choices)
            files = conversations.downloads(session)
            out = {
                chat: gr.Chatbot(value=chat_messages(session.history),
                                 feedback_value=feedback_values(session.history, feedback)),
                sources: sources_html(latest_citations(session.history)),
                checkin: checkin_html(latest_state(session.history, "pressures")),
                script: script_markdown(latest_state(session.history, "script")),
                dl_script: gr.DownloadButton(value=files.get("script"), visible="script" in files),
                dl_ics: gr.DownloadButton(value=files.get("ics"), visible="ics" in files),
                past: gr.Radio(choices=history_choices(conversations.store), value=session_id),
            }
            for i, slot in enumerate(slots):
                out[slot] = gr.Button(value=choices[i], visible=True) if i < len(choices) else gr.Button(visible=False)
            panel = PANEL_FOR_MODE.get(last_mode(session.history))
            if panel:
                out[tabs] = gr.Tabs(selected=panel)
            return out

        def on_load(session_id):
            if not session_id_ok(session_id):
                session_id = new_id()
            return {sid: session_id, **view(session_id)}

        def on_turn(text, session_id, messages):
            if not (text or "").strip():
                yield {box: ""}
                return
            if not session_id_ok(session_id):
                session_id = new_id()
            messages = [*(messages or []), {"role": "user", "content": text}, {"role": "assistant", "content": ""}]
            hidden = {slot: gr.Button(visible=False) for slot in slots}
            yield {sid: session_id, box: "", chat: messages, **hidden}
            streamed = ""
            for item in conversations.turn(session_id, text):
                if isinstance(item, str):
                    streamed += item
                    messages[-1] = {"role": "assistant", "content": streamed}
                    yield {chat: messages}
            yield view(session_id)

        def on_like(session_id, data: gr.LikeData):
            if not session_id_ok(session_id) or not isinstance(data.index, int):
                return
            value = {True: "up", False: "down", "Like": "up", "Dislike": "down"}.get(data.liked)
            conversations.feedback(session_id, seq=data.index, value=value)

        # Gradio finds the LikeData parameter by its annotation, which postponed annotations leave as a string.
        on_like.__annotations__["data"] = gr.LikeData

        def on_open(chosen):
            if not session_id_ok(chosen):
                return {}
            return {sid: chosen, **view(chosen)}

        def on_new():
            session_id = new_id()
            return {sid: session_id, **view(session_id), deleted: gr.Markdown(visible=False)}

        def on_delete_confirmed():
            conversations.delete_everything(extra_dirs=(cache_dir,) if cache_dir else ())
            session_id = new_id()
            return {sid: session_id, **view(session_id), confirm: gr.Group(visible=False),
                    deleted: gr.Markdown(words["history"]["deleted"], visible=True)}

        turn_io = {"outputs": [sid, box, *view_outputs], "concurrency_id": "turn",
                   "concurrency_limit": TURN_CONCURRENCY, "show_progress": "hidden"}
        demo.load(on_load, inputs=[sid], outputs=[sid, *view_outputs], show_progress="hidden")
        box.submit(on_turn, inputs=[box, sid, chat], **turn_io)
        for slot in slots:
            slot.click(on_turn, inputs=[slot, sid, chat], **turn_io)
        chat.like(on_like, inputs=[sid], outputs=None, show_progress="hidden")
        open_btn.click(on_open, inputs=[past], outputs=[sid, *view_outputs])
        new_btn.click(on_new, outputs=[sid, *view_outputs, deleted])
        delete_btn.click(lambda: gr.Group(visible=True), outputs=[confirm])
        cancel_btn.click(lambda: gr.Group(visible=False), outputs=[confirm])
        confirm_btn.click(on_delete_confirmed, outputs=[sid, *view_outputs, confirm, deleted])

        def chat_api(text: str, session_id: str = "") -> dict:
            """One turn in a stored session (a new one when session_id is empty): the reply as JSON."""
            if not session_id:
                session_id = new_id()
            if not session_id_ok(session_id):
                return {"error": "session_id must be 32 lowercase hex characters, or empty for a new session."}
            reply = conversations.send(session_id, text)
            return {"session_id": session_id, **reply.to_json()}

        gr.api(chat_api, api_name="chat", concurrency_id="turn", concurrency_limit=TURN_CONCURRENCY)
    return demo


def browser_secret(data_dir: Path) -> str:
    """The key that encrypts the session id in the browser; kept so it survives a restart."""
    path = data_dir / "web-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def serve(*, engine: Engine, data_dir: Path, host: str, port: int, auth: tuple[str, str] | None,
          ready: Callable[[str], None]) -> None:
    """Start the web app, call `ready` with its URL, and block until stopped (Ctrl+C)."""
    cache_dir = data_dir / "web-cache"
    # Gradio copies served files (downloads) here instead of the shared /tmp, so deleting
    # everything can remove them too. Read by Gradio when it is imported.
    os.environ["GRADIO_TEMP_DIR"] = str(cache_dir)
    import gradio as gr

    engine.warm_up()  # the one-off costs, paid before the first person arrives
    store = Store(path=data_dir / "sessions.db")
    conversations = Conversations(engine=engine, store=store, files_dir=data_dir / "downloads")
    demo = build(conversations=conversations, secret=browser_secret(data_dir), cache_dir=cache_dir)
    demo.queue(default_concurrency_limit=TURN_CONCURRENCY)
    demo.launch(
        server_name=host, server_port=port, auth=auth, prevent_thread_lock=True, quiet=True, show_error=False,
        ssr_mode=False, pwa=False, mcp_server=False, footer_links=[], allowed_paths=[str(data_dir / "downloads")],
        theme=gr.themes.Soft(primary_hue="teal", neutral_hue="slate", font=FONT, font_mono=FONT_MONO), css=CSS,
    )
    ready(f"http://{'[' + host + ']' if ':' in host else host}:{port}")
    try:
        demo.block_thread()
    finally:
        store.close()
