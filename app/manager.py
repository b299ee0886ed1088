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


def respond(persona: str, *, beat: str, line_text: str, earlier: list[str] = ()) -> str:
    options = texts("rehearse")["personas"][persona]["after"][beat][reaction(line_text, earlier=earlier)]
    return options[zlib.crc32(line_text.encode("utf-8")) % len(options)]
