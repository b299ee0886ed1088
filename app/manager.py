"""The counterpart: the manager in a rehearsal, in character.

It sees only the scenario (persona, beat) and what was just said, as read by app/lines.py; it never
sees the coach's scores. Lines come from the persona banks in prompts/rehearse.yaml; the variant is
picked by a hash of the line, so a rehearsal replays identically.
"""

from __future__ import annotations

import zlib

from app.lines import read
from app.prompts import texts


def greeting(persona: str) -> str:
    return texts("rehearse")["personas"][persona]["greeting"]


def reaction(line_text: str, *, earlier: list[str] = ()) -> str:
    """How a manager hears the line: an accusation first, then a concrete proposal, then missing
    numbers (unless the person already gave some earlier in the conversation)."""
    line = read(line_text)
    if line.has("accusation"):
        return "accusation"
    if line.has("solutions") and (line.numbers or line.has("specific")):
        return "proposal"
    if not line.numbers and not any(read(said).numbers for said in earlier):
        return "no_data"
    return "default"


def respond(persona: str, *, beat: str, line_text: str, earlier: list[str] = ()) -> tuple[str, str]:
    """The manager's line and how it heard this one ("proposal" when it gave way to a concrete plan)."""
    character = texts("rehearse")["personas"][persona]
    heard = reaction(line_text, earlier=earlier)
    if heard == "proposal" and character.get("holds_out") and not _heard_a_case([*earlier, line_text]):
        heard = "default"  # the skeptical manager gives way only to numbers and a concrete proposal, both heard
    options = character["after"][beat][heard]
    return options[zlib.crc32(line_text.encode("utf-8")) % len(options)], heard


def _heard_a_case(said: list[str]) -> bool:
    lines = [read(text) for text in said]
    data = any(line.numbers and line.has("metric") for line in lines)  # hours or a metric, not a date
    proposal = any(line.has("solutions") and (line.numbers or line.has("specific")) for line in lines)
    return data and proposal and len(lines) >= 2
