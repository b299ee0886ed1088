"""The web page: Steady in the browser, a thin Gradio layer over `Conversations`.

The chat (streamed when a model writes), quick-reply buttons that follow the reply's `choices`, and
side tabs: Sources, Check-in (a chart drawn in plain HTML so nothing loads from elsewhere), Script
(with downloads) and History (resume, delete everything). Every handler acts for the request's
owner (app/gate.py works it out; Gradio hands it over as `request.username`) and sees only that
owner's conversations. The browser stores nothing: a page reopened, even after a restart, shows
the owner's latest conversation. Flows never import this module; Gradio is imported lazily.
"""

from __future__ import annotations

import html
import re
import time
import uuid

from app.engine import last_reply
from app.passage_html import passage_html
from app.prompts import texts
from app.sessions import (
    MAX_STORED_CHARS,
    Conversations,
    latest_citations,
    latest_state,
    rehearsal_documents,
    script_document,
)
from app.store import NotYourSession, SessionSummary, StoreFull

QUICK_REPLY_SLOTS = 6
# The chat shows the latest messages only, so a turn costs the browser the same at message 4 and 400
# (the whole conversation was sent and re-rendered every turn); earlier ones are a click away.
CHAT_WINDOW = 60
MAX_CASE_CHARS = 300  # one part of the rehearsal's case: a phrase, not an essay
# Throwaway turns answered (and not stored) before the server opens, so what loads lazily on a
# first use (phrase banks, prompt files) is not paid by the first person's first message.
TURN_CONCURRENCY = 4  # turns answered at once; more only queue for the 2 cores
SCALE = 10  # the chart's points: finer steps would suggest a precision the reading lacks
PANEL_FOR_MODE = {"ask": "sources", "checkin": "checkin", "rehearse": "script"}  # the tab a reply opens
FOCUS_INPUT = "() => { document.querySelector('#steady-input textarea')?.focus(); }"
_SESSION_ID = re.compile(r"[0-9a-f]{32}")
# System fonts only: a web font would be fetched from another host when the page loads.
FONT = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
FONT_MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")

CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto !important; }
#steady-header h1 { font-size: 1.35rem; margin: 0.2rem 0 0; font-weight: 600; }
#steady-header p { margin: 0.15rem 0 0.4rem; color: var(--steady-subdued); font-size: 0.92rem; }
#steady-chat button[aria-label="Clear"] { display: none; }  /* would clear the view, not the stored session */
#steady-chat hr { margin: 0.5rem 0 !important; }  /* the rule between the coach's note and the manager's line */
#steady-quick { gap: 0.4rem; flex-wrap: wrap; }
#steady-quick button { flex: 0 1 auto !important; min-width: 0 !important; white-space: normal; }
.gradio-container { --steady-subdued: #475569; } .dark .gradio-container, .dark.gradio-container { --steady-subdued: #cbd5e1; }
.steady-muted { color: var(--steady-subdued); font-size: 0.92rem; line-height: 1.5; }
/* The theme's teal on a light background is below AA contrast for text: darker for text, same accent for fills. */
#steady-tabs button[role="tab"][aria-selected="true"] { color: #0f766e; }
#steady-history [data-testid="block-info"], #steady-case [data-testid="block-info"] { color: #115e59; }
#steady-history label.selected { background: #0f766e !important; border-color: #0f766e !important; }
.dark #steady-tabs button[role="tab"][aria-selected="true"], .dark #steady-history [data-testid="block-info"],
.dark #steady-case [data-testid="block-info"] { color: #5eead4; }
.steady-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.5rem 0.7rem; margin: 0 0 0.5rem; }
.steady-source summary { cursor: pointer; font-weight: 600; line-height: 1.4; }
.steady-source .steady-section { font-weight: 400; color: var(--steady-subdued); }
.steady-passage { line-height: 1.55; overflow-wrap: anywhere; } .steady-passage p, .steady-passage ul { margin: 0.5rem 0 0; }
.steady-passage mark { background: #fef08a; color: #1f2937; padding: 0 0.1em; border-radius: 2px; }
#steady-checkin h2 { font-size: 1.05rem; margin: 0.9rem 0 0.3rem; }
.steady-chart { list-style: none; padding: 0; margin: 0.6rem 0; }
.steady-bar { display: grid; grid-template-columns: minmax(7rem, 10rem) 1fr auto; gap: 0.3rem 0.7rem; align-items: center; margin: 0 0 0.45rem; }
.steady-bar-label { font-size: 0.9rem; line-height: 1.25; }
.steady-bar-value { font-size: 0.85rem; color: var(--steady-subdued); white-space: nowrap; }
.steady-bar-track { background: var(--background-fill-secondary); border-radius: 6px; height: 0.9rem; overflow: hidden; }
.steady-bar-fill { display: block; height: 100%; border-radius: 6px; background: var(--color-accent); }
.steady-bar-top .steady-bar-label { font-weight: 600; }
.steady-quiet summary { cursor: pointer; font-size: 0.92rem; }
.steady-verdict { border-left: 3px solid var(--color-accent); padding: 0.3rem 0.7rem; margin: 0.8rem 0; line-height: 1.5; }
#steady-script h1 { font-size: 1.3rem; } #steady-script h2 { font-size: 1.1rem; } #steady-script h3 { font-size: 1rem; }
.steady-levers li { margin-bottom: 0.45rem; line-height: 1.5; }
@media (max-width: 640px) {
  /* 360-430 px phones: no sideways scroll (the four tab names and Gradio's 32 px side padding overflowed) */
  #steady-tabs .tab-container button { padding-left: 0.5rem !important; padding-right: 0.5rem !important; }
  .steady-bar { grid-template-columns: 1fr auto; }
  .steady-bar-label { grid-column: 1 / -1; }
}
"""


# Gradio scopes `css` to the blocks inside the page, so the page's own side padding (32 px, too much
# on a phone) is set from <head>.
HEAD = "<style>@media (max-width: 640px) { .gradio-container .main.app { padding-left: 0.5rem; padding-right: 0.5rem; } }</style>"


def session_id_ok(value: object) -> bool:
    return isinstance(value, str) and bool(_SESSION_ID.fullmatch(value))


# --- what each part of the page shows, as plain data (tested without a browser) ------------------

def shown_from(history: list[dict], *, everything: bool = False) -> int:
    """The position of the first message the chat shows: the latest CHAT_WINDOW, or all of them."""
    return 0 if everything else max(0, len(history) - CHAT_WINDOW)


def chat_messages(history: list[dict], *, start: int = 0) -> list[dict]:
    """The conversation from position `start` as Gradio chat messages, one per stored message (so a
    message's index in the chat plus `start` is its position)."""
    words = texts("web")
    out = []
    for turn in history[start:]:
        if turn.get("role") == "user":
            out.append({"role": "user", "content": user_line(turn.get("text", ""))})
            continue
        parts = [turn.get("text", "")]
        if turn.get("notice"):
            parts.append(f"_{turn['notice']}_")
        if turn.get("interrupted"):
            parts.append(f"_{words['interrupted']}_")
        out.append({"role": "assistant", "content": "\n\n".join(p for p in parts if p)})
    return out


def user_line(text: str) -> str:
    """How the chat shows the person's message: a case edit (the Script tab's fields send one) as what
    changed, not as the /case command it travels in."""
    command, _, changes = text.partition("\n")
    if command.strip().lower() != "/case" or not changes.strip():
        return text
    return texts("web")["case"]["edited"].format(changes="; ".join(c.strip() for c in changes.splitlines() if c.strip()))


def feedback_values(history: list[dict], feedback: dict[int, str | None], *, start: int = 0) -> list[str | None]:
    """Gradio's per-answer feedback list ("Like"/"Dislike"/None), in order of the answers shown from `start`."""
    shown = {"up": "Like", "down": "Dislike"}
    return [shown.get(feedback.get(i) or "") for i, turn in enumerate(history) if i >= start and turn.get("role") != "user"]


def last_mode(history: list[dict]) -> str | None:
    return (last_reply(history) or {}).get("mode")


def current_choices(history: list[dict], welcome_choices: list[str]) -> list[str]:
    """The latest reply's quick replies; the opening ones before any reply or after a cut-off one."""
    last = last_reply(history)
    if last is None or last.get("interrupted"):
        return list(welcome_choices)
    return list(last.get("choices") or [])


def sources_html(citations: list[dict]) -> str:
    words = texts("web")["sources"]
    if not citations:
        return f'<p class="steady-muted">{html.escape(words["empty"])}</p>'
    items = [f'<p class="steady-muted">{html.escape(words["intro"])}</p>']
    for c in citations:
        items.append(
            f'<details class="steady-source" data-n="{int(c["n"])}"><summary>[{int(c["n"])}] {html.escape(c["title"])}'
            f' <span class="steady-section">— {html.escape(c["section"])}</span></summary>'
            f'<div class="steady-passage">{passage_html(c["text"], quoted=c.get("quoted") or [])}</div></details>'
        )
    return "\n".join(items)


def checkin_html(state: dict) -> str:
    """What the check-in heard, in plain HTML and CSS (nothing fetched): the pressures the person
    raised, each with its level in words and in points out of SCALE, the others folded away; then
    the verdict and the levers. Bars are drawn from the rounded points, so two pressures that
    differ by less than a point look the same and are listed by name, not ranked."""
    words = texts("web")["checkin"]
    pressures = state.get("pressures") or {}
    if not pressures:
        return f'<p class="steady-muted">{html.escape(words["empty"])}</p>'
    top = set(state.get("top") or [])
    names = {pid: words["pressures"].get(pid, pid.replace("_", " ")) for pid in pressures}
    levels = sorted(words["levels"], key=lambda level: -level["from"])
    points = {pid: round(max(0.0, min(1.0, float(score))) * SCALE) for pid, score in pressures.items()}
    heard = sorted((pid for pid, score in pressures.items() if float(score) >= levels[-1]["from"]),
                   key=lambda pid: (-points[pid], names[pid]))
    rows = []
    for pid in heard:
        level = next(level["words"] for level in levels if float(pressures[pid]) >= level["from"])
        said = words["level_line"].format(level=level, points=points[pid], scale=SCALE)
        rows.append(
            f'<li class="steady-bar{" steady-bar-top" if pid in top else ""}" data-pressure="{html.escape(pid)}"'
            f' data-points="{points[pid]}"><span class="steady-bar-label">{html.escape(names[pid])}</span>'
            f'<span class="steady-bar-track" aria-hidden="true">'
            f'<span class="steady-bar-fill" style="width: {points[pid] * 100 // SCALE}%"></span></span>'
            f'<span class="steady-bar-value">{html.escape(said)}</span></li>'
        )
    parts = [f"<h2>{html.escape(words['chart_title'])}</h2>",
             f'<p class="steady-muted">{html.escape(words["chart_note"].format(scale=SCALE))}</p>']
    parts.append(f'<ul class="steady-chart">{"".join(rows)}</ul>' if rows
                 else f'<p class="steady-muted">{html.escape(words["nothing_yet"])}</p>')
    quiet = sorted(names[pid] for pid in pressures if pid not in heard)
    if quiet:
        parts.append(f'<details class="steady-quiet"><summary>{html.escape(words["not_mentioned"].format(n=len(quiet)))}'
                     f'</summary><p class="steady-muted">{html.escape(", ".join(quiet))}</p></details>')
    verdict = words["verdicts"].get(state.get("verdict") or "")
    if verdict:
        scope = words["scopes"].get(state.get("scope") or "", "")
        parts.append(f'<h2>{html.escape(words["verdict_heading"])}</h2>'
                     f'<p class="steady-verdict">{html.escape(verdict)} {html.escape(scope)}</p>')
    levers = state.get("levers") or []
    if levers:
        items = "".join(
            f'<li><strong>{html.escape(lever.get("title", ""))}</strong> — {html.escape(lever.get("text", ""))}'
            + (f' [{int(lever["n"])}]' if lever.get("n") else "") + "</li>"
            for lever in levers
        )
        parts.append(f'<h2>{html.escape(words["levers_heading"])}</h2><ul class="steady-levers">{items}</ul>')
    return "\n".join(parts)


def script_markdown(state: dict) -> str:
    return script_document(state) if state.get("script") else texts("web")["script"]["empty"]


def history_choices(sessions: list[SessionSummary]) -> list[tuple[str, str]]:
    words = texts("web")["history"]
    choices = []
    for s in sessions:
        when = time.strftime("%d %b %H:%M", time.localtime(s.updated))
        title = s.title or words["untitled"]
        choices.append((f"{title} · {when} · {words['messages'].format(n=s.messages)}", s.session_id))
    return choices


def downloads_html(session_id: str, state: dict) -> str:
    """Links to the owner-checked download route (app/gate.py); nothing is left on disk."""
    if not state.get("script"):
        return ""
    words = texts("web")["script"]
    links = [f'<a class="steady-download" id="steady-download-script" href="/download/{session_id}/script" '
             f'download>{html.escape(words["download_script"])}</a>']
    if state.get("ics"):
        links.append(f'<a class="steady-download" id="steady-download-ics" href="/download/{session_id}/ics" '
                     f'download>{html.escape(words["download_ics"])}</a>')
    return f'<p class="steady-downloads">{" ".join(links)}</p>'


# --- the page ------------------------------------------------------------------------------------

def build(*, conversations: Conversations):
    """The Gradio Blocks app, for mounting behind app/gate.py (which sets each request's owner)."""
    import gradio as gr

    words = texts("web")
    case_items = texts("rehearse")["case"]
    welcome = conversations.engine.welcome()
    new_id = lambda: uuid.uuid4().hex  # noqa: E731

    def owner(request: gr.Request) -> str:
        who = getattr(request, "username", None)
        if not who:  # the gate lets no request through without one; this is a second lock
            raise gr.Error(words["gate"]["no_owner"])
        return who

    with gr.Blocks(title=words["title"], analytics_enabled=False) as demo:
        sid = gr.State(None)
        everything = gr.State(False)  # the person asked to see the whole conversation, not only its latest part
        first = gr.State(0)  # the position of the chat's first message (a thumb's index is counted from it)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                gr.Markdown(f"# {words['title']}\n{words['tagline']}", elem_id="steady-header")
                earlier = gr.Button(visible=False, size="sm", variant="secondary", elem_id="steady-earlier")
                chat = gr.Chatbot(
                    label=words["title"], show_label=False, height="62vh", min_height=320, layout="bubble",
                    placeholder=welcome.text, feedback_options=("Like", "Dislike"), buttons=["copy"],
                    elem_id="steady-chat",
                )
                with gr.Row(elem_id="steady-quick"):
                    slots = [gr.Button(visible=False, size="sm", variant="secondary", elem_classes="steady-choice")
                             for _ in range(QUICK_REPLY_SLOTS)]
                box = gr.Textbox(label=words["input_label"], show_label=False, placeholder=words["input_placeholder"],
                                 lines=1, max_lines=6,
                                 max_length=MAX_STORED_CHARS,  # a paste stops here, before the page stalls
                                 submit_btn=words["send"], autofocus=True,
                                 elem_id="steady-input")
            with gr.Column(scale=2, min_width=280):
                with gr.Tabs(elem_id="steady-tabs") as tabs:
                    with gr.Tab(words["tabs"]["sources"], id="sources", elem_id="tab-sources"):
                        sources = gr.HTML(sources_html([]), elem_id="steady-sources")
                    with gr.Tab(words["tabs"]["checkin"], id="checkin", elem_id="tab-checkin"):
                        checkin = gr.HTML(checkin_html({}), elem_id="steady-checkin")
                    with gr.Tab(words["tabs"]["script"], id="script", elem_id="tab-script"):
                        with gr.Accordion(words["case"]["heading"], open=True, visible=False,
                                          elem_id="steady-case") as case_box:
                            gr.Markdown(words["case"]["intro"], elem_classes="steady-muted")
                            fields = {item: gr.Textbox(label=spec["label"], lines=1, max_lines=2,
                                                       max_length=MAX_CASE_CHARS, elem_id=f"steady-case-{item}")
                                      for item, spec in case_items.items()}
                            update = gr.Button(words["case"]["save"], size="sm", elem_id="steady-case-update")
                        downloads = gr.HTML("", elem_id="steady-downloads")  # above the script: it runs long
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

        view_outputs = [chat, first, earlier, *slots, tabs, sources, checkin, script, downloads, past, case_box,
                        *fields.values()]

        def view(session_id: str, who: str, full: bool = False, opened: tuple | None = None) -> dict:
            """Every part of the page for the owner's session: from what is stored, or from the session
            and thumbs the caller already has (`opened`, as Conversations.opened gives them)."""
            session, feedback = opened or conversations.opened(session_id, who)
            choices = current_choices(session.history, welcome.choices)
            script_state = rehearsal_documents(session)
            start = shown_from(session.history, everything=full)
            out = {
                chat: gr.Chatbot(value=chat_messages(session.history, start=start),
                                 feedback_value=feedback_values(session.history, feedback, start=start)),
                first: start,
                earlier: gr.Button(words["earlier"].format(n=start), visible=start > 0),
                sources: sources_html(latest_citations(session.history)),
                checkin: checkin_html(latest_state(session.history, "pressures")),
                script: script_markdown(script_state),
                downloads: downloads_html(session_id, script_state),
                past: gr.Radio(choices=history_choices(conversations.history(who)), value=session_id),
            }
            case = script_state.get("case") or {}
            # The case is shown once there is a script; open while choosing a manager, folded later.
            out[case_box] = gr.Accordion(visible=bool(script_state.get("script")), open=script_state.get("stage") == "script")
            for item, field in fields.items():
                out[field] = case.get(item) or ""
            for i, slot in enumerate(slots):
                out[slot] = gr.Button(value=choices[i], visible=True) if i < len(choices) else gr.Button(visible=False)
            panel = PANEL_FOR_MODE.get(last_mode(session.history))
            if panel:
                out[tabs] = gr.Tabs(selected=panel)
            return out

        def mine(session_id, who: str) -> str:
            """The session id to show: this one if it is the owner's (or new), else the owner's latest or a new one."""
            if session_id_ok(session_id) and conversations.owns(session_id, who):
                return session_id
            latest = conversations.history(who)
            return latest[0].session_id if latest else new_id()

        def on_load(request: gr.Request):
            who = owner(request)
            session_id = mine(None, who)
            return {sid: session_id, **view(session_id, who)}

        def on_turn(text, session_id, full, request: gr.Request):
            who = owner(request)
            if not (text or "").strip():
                yield {box: ""}
                return
            session_id = mine(session_id, who)
            before, feedback = conversations.opened(session_id, who)
            shown = chat_messages(before.history, start=shown_from(before.history, everything=full))
            messages = [*shown, {"role": "user", "content": user_line(text)}, {"role": "assistant", "content": ""}]
            hidden = {slot: gr.Button(visible=False) for slot in slots}
            yield {sid: session_id, box: "", chat: messages, **hidden}
            streamed = ""
            turn = conversations.turn(session_id, text, owner=who)
            try:
                while True:
                    try:
                        item = next(turn)
                    except StopIteration as done:  # the turn hands back the session it left
                        after = done.value
                        break
                    if isinstance(item, str):
                        streamed += item
                        messages[-1] = {"role": "assistant", "content": streamed}
                        yield {chat: messages}
            except StoreFull:
                # Nothing was stored or answered: the words go back into the box to send again.
                gr.Warning(words["disk_full"], duration=None)
                yield {**view(session_id, who, full), box: text}
                return
            except NotYourSession:
                yield {box: text, **view(new_id(), who)}
                return
            yield view(session_id, who, full, opened=(after, feedback))  # the thumbs of a new answer are none yet

        def on_update_case(data: dict, request: gr.Request):
            """The Script tab's fields: the parts that changed go to the engine as one /case message."""
            who = owner(request)
            session_id = data[sid]
            case = rehearsal_documents(conversations.load(mine(session_id, who), who)).get("case") or {}
            lines = [f"{case_items[item]['label']}: {' '.join((data[field] or '').split())}"
                     for item, field in fields.items() if " ".join((data[field] or "").split()) != (case.get(item) or "")]
            if not lines:
                gr.Info(words["case"]["unchanged"])
                return
            yield from on_turn("\n".join(["/case", *lines]), session_id, data[everything], request)

        def on_like(session_id, start, data: gr.LikeData, request: gr.Request):
            who = owner(request)
            if not session_id_ok(session_id) or not isinstance(data.index, int) or not isinstance(start, int):
                return
            value = {True: "up", False: "down", "Like": "up", "Dislike": "down"}.get(data.liked)
            conversations.feedback(session_id, owner=who, seq=start + data.index, value=value)

        def on_earlier(session_id, request: gr.Request):
            who = owner(request)
            return {everything: True, **view(mine(session_id, who), who, full=True)}

        # Gradio finds these parameters by their annotations, which postponed annotations leave as strings.
        for handler in (on_load, on_turn, on_like, on_update_case, on_earlier):
            handler.__annotations__["request"] = gr.Request
        on_like.__annotations__["data"] = gr.LikeData

        def on_open(chosen, request: gr.Request):
            who = owner(request)
            if not session_id_ok(chosen) or conversations.store.owner_of(session_id=chosen) != who:
                return {}
            return {sid: chosen, everything: False, **view(chosen, who)}

        def on_new(request: gr.Request):
            session_id = new_id()
            return {sid: session_id, everything: False, **view(session_id, owner(request)),
                    deleted: gr.Markdown(visible=False)}

        def on_delete_confirmed(request: gr.Request):
            who = owner(request)
            conversations.forget(owner=who)  # this owner's conversations only
            session_id = new_id()
            return {sid: session_id, everything: False, **view(session_id, who), confirm: gr.Group(visible=False),
                    deleted: gr.Markdown(words["history"]["deleted"], visible=True)}

        for handler in (on_open, on_new, on_delete_confirmed):
            handler.__annotations__["request"] = gr.Request

        turn_io = {"outputs": [sid, box, *view_outputs], "concurrency_id": "turn",
                   "concurrency_limit": TURN_CONCURRENCY, "show_progress": "hidden"}
        demo.load(on_load, outputs=[sid, *view_outputs], show_progress="hidden")
        # The box is disabled while a turn runs and a pressed quick reply hides, so either would leave
        # the keyboard on the page body: focus goes back to the box once the answer is in.
        box.submit(on_turn, inputs=[box, sid, everything], **turn_io).then(None, js=FOCUS_INPUT)
        for slot in slots:
            slot.click(on_turn, inputs=[slot, sid, everything], **turn_io).then(None, js=FOCUS_INPUT)
        update.click(on_update_case, inputs={sid, everything, *fields.values()}, **turn_io).then(None, js=FOCUS_INPUT)
        chat.like(on_like, inputs=[sid, first], outputs=None, show_progress="hidden")
        earlier.click(on_earlier, inputs=[sid], outputs=[everything, *view_outputs], show_progress="hidden")
        open_btn.click(on_open, inputs=[past], outputs=[sid, everything, *view_outputs]).then(None, js=FOCUS_INPUT)
        new_btn.click(on_new, outputs=[sid, everything, *view_outputs, deleted]).then(None, js=FOCUS_INPUT)
        delete_btn.click(lambda: gr.Group(visible=True), outputs=[confirm])
        cancel_btn.click(lambda: gr.Group(visible=False), outputs=[confirm])
        confirm_btn.click(on_delete_confirmed, outputs=[sid, everything, *view_outputs, confirm, deleted])
    return demo
