"""What a rehearsed line contains: numbers, cues of impact, solutions, tone, openness and an ask.

Both the coach (app/rubric.py) and the counterpart (app/manager.py) read a line through this one
module, so they agree on what was said while staying apart in what they do with it. Pure and
deterministic: the same line always reads the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.prompts import texts
from app.quantities import TENS, UNITS
from app.safety import language  # the lexicons' languages: markers per language, not a list of English words
from app.text import normal as text_normal

# The quantity reader's number words (not "a"/"an", which it reads as one), and words that scale a figure.
NUMBER_WORDS = {*UNITS, *TENS} - {"a", "an"} | {"hundred", "half", "double", "twice"}


@dataclass(frozen=True)
class Line:
    text: str
    words: int
    numbers: int  # digits or number words
    cues: dict  # cue family -> matched phrases
    english: bool

    def has(self, family: str) -> bool:
        return bool(self.cues.get(family))


def normal(text: str) -> str:
    """app.text.normal, padded with a space each side so cues match as whole words at the ends too."""
    return f" {text_normal(text)} "


def matches(text: str, phrases: list[str]) -> list[str]:
    """Phrases present as whole words (or, for symbols like %, anywhere)."""
    lowered = normal(text)
    found = []
    for phrase in phrases:
        pattern = re.escape(phrase) if not phrase[0].isalnum() else r"(?<![\w@])" + re.escape(phrase) + r"(?![\w])"
        if re.search(pattern, lowered):
            found.append(phrase)
    return found


def read(text: str) -> Line:
    cues = texts("rehearse")["cues"]
    tokens = re.findall(r"[\w@%.']+", text.lower())
    numbers = sum(1 for t in tokens if re.search(r"\d", t) or t in NUMBER_WORDS)
    found = {family: matches(text, phrases) for family, phrases in cues.items()}
    shouting = sum(1 for w in re.findall(r"[A-Za-z]{3,}", text) if w.isupper()) >= 3 or "!!" in text
    if shouting:
        found["accusation"] = [*found["accusation"], "shouting"]
    return Line(text=text, words=len(tokens), numbers=numbers, cues=found,
                english=language(text) == "en")
