"""A passage's own Markdown as safe HTML, with the sentences an answer quoted marked.

The corpus is Markdown ("- **Tight Deadlines:** …"); shown raw it reads as clutter. It is rendered
with markdown-it (CommonMark, raw HTML escaped, images off so nothing is fetched from elsewhere).
The quoted sentences are found in the source by the same sentence split ingest uses, fenced with
two private-use characters before rendering, and the fences become <mark> runs that close and
reopen around any tag between them, so the HTML stays well nested.
"""

from __future__ import annotations

import re
from functools import cache

from ingest.split import SENTENCE_END, sentences

OPEN, CLOSE = "\ue000", "\ue001"
_TAG = re.compile(r"(<[^>]*>)")
_LEAD = re.compile(r"^(?:[-*>]\s+|\*+|_+)+")  # a list or quote marker, or emphasis, before the words
_TRAIL = re.compile(r"(?:\*+|_+)$")


@cache
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).disable("image")


def _fence(text: str, quoted: set[str]) -> str:
    """The source with each quoted sentence between OPEN and CLOSE (emphasis markers left outside)."""
    out, start = [], 0
    for gap in [*SENTENCE_END.finditer(text), None]:
        end = gap.start() if gap else len(text)
        piece = text[start:end]
        said = sentences(piece)
        if piece.strip() and said and said[0] in quoted:
            lead = _LEAD.match(piece.lstrip())
            head = len(piece) - len(piece.lstrip()) + (lead.end() if lead else 0)
            body = piece[head:].rstrip()
            tail = _TRAIL.search(body)
            cut = tail.start() if tail else len(body)
            piece = piece[:head] + OPEN + body[:cut] + CLOSE + body[cut:] + piece[head + len(body):]
        out.append(piece)
        if gap:
            out.append(gap.group(0))
            start = gap.end()
    return "".join(out)


def _marks(rendered: str) -> str:
    """OPEN/CLOSE as <mark> around every run of text between them, never across a tag."""
    out, marking = [], False
    for token in _TAG.split(rendered):
        if token.startswith("<"):
            out.append(token)
            continue
        for run in re.split(f"([{OPEN}{CLOSE}])", token):
            if run in (OPEN, CLOSE):
                marking = run == OPEN
            elif run:
                out.append(f"<mark>{run}</mark>" if marking and run.strip() else run)
    return "".join(out)


def passage_html(text: str, *, quoted: list[str] = ()) -> str:
    # Chunks keep one newline between paragraphs; Markdown needs a blank line to start a new one
    # (list items stay together, so a list stays one tight list).
    clean = re.sub(r"\n+(?![-*] )", "\n\n", text.replace(OPEN, "").replace(CLOSE, ""))
    return _marks(_markdown().render(_fence(clean, set(quoted)) if quoted else clean))
