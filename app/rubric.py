"""The coach: scores a rehearsed line against the guide's etiquette and writes a stronger version.

Deterministic and explainable: every score comes from what app/lines.py read in the line, with the
reason for that score from prompts/rehearse.yaml. No model is involved, with or without one configured.
"""

from __future__ import annotations

import re

from app.lines import Line, matches, read
from app.prompts import texts
from ingest.split import sentences

CRITERIA = ("data", "impact", "solutions", "tone", "openness", "ask")


def scores(line: Line) -> dict[str, int]:
    has = line.has
    data = 2 if line.numbers and (has("metric") or line.numbers >= 2) else 1 if line.numbers or has("metric") else 0
    impact = min(2, len(line.cues["impact"]))
    concrete = line.numbers or has("specific")
    solutions = 2 if has("solutions") and (concrete or len(line.cues["solutions"]) >= 2) else 1 if has("solutions") else 0
    tone = 0 if has("accusation") else 1 if has("frustration") else 2
    openness = 0 if has("closed") else 2 if has("openness") else 1 if "?" in line.text and tone else 0
    implied = solutions == 2  # a concrete proposal implies the ask, but saying it outright is stronger
    ask = 2 if has("ask") and (concrete or has("solutions")) else 1 if has("ask") or implied or "?" in line.text else 0
    if rambling(line):
        ask = min(ask, 1)
    return {"data": data, "impact": impact, "solutions": solutions, "tone": tone, "openness": openness, "ask": ask}


def rambling(line: Line) -> bool:
    """Long and run-on: the guide's own proposal is long too, but in short sentences."""
    words = texts("rehearse")
    per_sentence = line.words / max(1, len(sentences(line.text)))
    return line.words > 200 or (line.words > words["rambling_words"] and per_sentence > words["rambling_sentence"])


def feedback(text: str, *, beat: str, case: dict) -> dict:
    words = texts("rehearse")
    line = read(text)
    got = scores(line)
    expected = words["expected"][beat]
    reasons = {c: words["reasons"][c][s] for c, s in got.items()}
    notes = ([] if line.english else [words["not_english_reason"]]) + ([words["rambling_reason"]] if rambling(line) else [])
    return {"line": text, "beat": beat, "scores": got, "reasons": reasons, "total": sum(got.values()),
            "beat_total": sum(got[c] for c in expected), "beat_max": 2 * len(expected),
            "better": better(line, got, case=case, expected=expected, beat=beat), "notes": notes}


def better(line: Line, got: dict[str, int], *, case: dict, expected: list[str], beat: str) -> str:
    """The line without what hurt it, with what this beat still lacks filled in from the person's own
    case: facts (data, impact) before their words, proposals and the ask after."""
    words = texts("rehearse")
    pieces = words["better"]
    accusing = words["cues"]["accusation"] + words["cues"]["closed"]
    kept = [s for s in (sentences(line.text) or [line.text]) if not matches(s, accusing) and s.strip()]
    fresh = not line.english or rambling(line)
    if fresh:
        kept = []  # a stronger version of a long or non-English line starts from the essentials
    filled = {**words["neutral"], **{k: v for k, v in case.items() if v}}
    said = line.text.lower()
    before, after = [], []
    for criterion in ("data", "impact", "solutions", "openness", "ask"):
        if criterion not in expected or (got[criterion] == 2 and not fresh):
            continue
        piece = pieces[criterion]
        if criterion == "data" and not case.get("hours"):
            piece = pieces["data_unknown"]
        if criterion == "impact" and (not case.get("metric") or case["metric"].lower() in said):
            piece = pieces["impact_general"]
        (before if criterion in ("data", "impact") else after).append(piece.format(**filled))
    if beat == "opening" and not kept:
        before.insert(0, pieces["calm_opening"])
    if kept == sentences(line.text) and not before and not after:
        return line.text  # nothing to add or take away
    return re.sub(r"\s+", " ", " ".join(_sentence(s) for s in [*before, *kept, *after])).strip()


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".?!" else text + "."
