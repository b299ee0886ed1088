"""What each sentence of a passage does: advice, fact, example, question, story (first person) or reference.

Ask quotes only advice and facts as evidence: a forum poster's question ("how do you avoid burning
out…?") or own story ("I work as a junior ML engineer…") answers nothing. The roles are read from the
passage's own structure, not from its topic, so a new document gets them too: a question mark, a
first-person voice outside quotation marks, an example marker, a link. Word-for-word script lines
("**You:** “I wanted to discuss my workload…”") are the guidance's advice on what to say.
"""

from __future__ import annotations

import re
from typing import Literal

from ingest.split import sentences

Role = Literal["advice", "fact", "example", "question", "story", "reference"]
QUOTABLE: frozenset[str] = frozenset({"advice", "fact"})

_FIRST_PERSON = re.compile(r"\b(I|I['’](?:m|ve|d|ll)|me|my|myself|mine)\b")
_QUOTED = re.compile(r"[“\"][^”\"]*[”\"]?")
_EXAMPLE = re.compile(r"^\(?(?:for example|for instance|e\.g\.|such as|imagine|assume|likely response)\b", re.IGNORECASE)
_LINK = re.compile(r"https?://|www\.|\]\(")
_SCRIPT_LINE = re.compile(r"^\s*(?:[-*]\s*)?\**\s*(You|Manager)\s*:\**", re.IGNORECASE)
_ADVICE = re.compile(
    r"\b(should|must|need to|try|consider|make sure|worth|helps?|recommend\w*|avoid|instead of|don['’]t|do not)\b"
    r"|^(?:\w+ly\s+)?(?:be|build|keep|protect|separate|invest|create|track|prepare|have|use|document|schedule|focus|own|"
    r"specialize|develop|contribute|start|set|ask|take|make|bring|frame|follow|send|seek|talk|treat|write|read|"
    r"block|learn|limit|say|offer|propose|quantify|gather|reframe|acknowledge|thank|reward|normalize|share|give|"
    r"separate|identify|explore|look|plan|run|choose|express|maintain|respect|tailor|recognize|remember)\b",
    re.IGNORECASE,
)


def role_of(sentence: str, *, script: str | None = None) -> Role:
    """One sentence's role. `script` is "you" or "manager" when the sentence sits on a script line."""
    text = sentence.strip()
    if _LINK.search(text):
        return "reference"
    if script == "manager":
        return "example"
    if text.rstrip("”\"’)' ").endswith("?"):
        return "question"
    if script == "you":
        return "advice"
    if _FIRST_PERSON.search(_QUOTED.sub(" ", text)):
        return "story"
    if _EXAMPLE.match(text):
        return "example"
    return "advice" if _ADVICE.search(text) else "fact"


def roles(passage: str) -> dict[str, Role]:
    """Each sentence of the passage (as ingest.split.sentences gives them) with its role."""
    found: dict[str, Role] = {}
    for line in passage.splitlines():
        speaker = _SCRIPT_LINE.match(line)
        script = speaker.group(1).lower() if speaker else None
        for sentence in sentences(line):
            found.setdefault(sentence, role_of(sentence, script=script))
    return found
