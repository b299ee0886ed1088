"""The coach: scores a rehearsed line against the guide's etiquette and writes a stronger version.

Each criterion's 0 / 1 / 2 is a learned decision (app/learned.py, "rubric_<criterion>") over the line's
reading, trained on hand-labelled lines (evals/rehearse/lines): hedging, filler and run-ons weigh on tone
and the ask, and impact counts in the person's own words ("more fraud getting through"). The weights are
fixed arrays, so the same line always gets the same feedback, with or without a model configured; the
reason for each score comes from prompts/rehearse.yaml. The cues of app/lines.py still shape the
stronger version and the notes.
"""

from __future__ import annotations

import re

import numpy as np

from app import learned
from app.case import tidy
from app.lines import Line, matches, read
from app.prompts import texts
from app.reading import Reading
from ingest.split import sentences

CRITERIA = learned.RUBRIC


def scores(reading: Reading, line: Line | None = None) -> dict[str, int]:
    models = [learned.model(f"rubric_{criterion}") for criterion in CRITERIA]
    # The six decisions share one spec shape (the vector and character n-grams), so one set of features.
    features = models[0].features(np.asarray([reading.vector]), [reading.text])
    found = {c: int(m.labels[int(m.probabilities_from(features)[0].argmax())]) for c, m in zip(CRITERIA, models, strict=True)}
    # The rubric's own definition of data is structure, not wording: a figure with its metric or hours is
    # a 2; a metric or hours without a figure at most 1; neither, 0. The model decides the rest
    # (a figure with no metric word: "two releases late").
    line = line or read(reading.text)
    if line.numbers and line.has("metric"):
        found["data"] = 2
    else:
        found["data"] = min(found["data"], 2 if line.numbers else 1 if line.has("metric") else 0)
    return found


def rambling(line: Line) -> bool:
    """Long and run-on: the guide's own proposal is long too, but in short sentences."""
    words = texts("rehearse")
    per_sentence = line.words / max(1, len(sentences(line.text)))
    return line.words > 200 or (line.words > words["rambling_words"] and per_sentence > words["rambling_sentence"])


def feedback(reading: Reading, *, beat: str, case: dict) -> dict:
    words = texts("rehearse")
    text = reading.text
    line = read(text)
    got = scores(reading, line)
    expected = words["expected"][beat]
    reasons = {c: words["reasons"][c][s] for c, s in got.items()}
    if got["tone"] == 1:  # say what took the mark: hedging isn't frustration
        cue = next(((family, line.cues[family][0]) for family in words["reasons"]["tone_because"] if line.has(family)), None)
        if cue:
            reasons["tone"] = words["reasons"]["tone_because"][cue[0]].format(cue=cue[1])
    notes = ([] if line.english else [words["not_english_reason"]]) + ([words["rambling_reason"]] if rambling(line) else [])
    return {"line": text, "beat": beat, "scores": got, "reasons": reasons, "total": sum(got.values()),
            "beat_total": sum(got[c] for c in expected), "beat_max": 2 * len(expected),
            "better": better(line, got, case=case, expected=expected, beat=beat), "notes": notes}


def better(line: Line, got: dict[str, int], *, case: dict, expected: list[str], beat: str) -> str:
    """The line without what hurt it, with what this beat still lacks filled in from the person's own
    case: facts (data, impact) before their words, proposals and the ask after."""
    words = texts("rehearse")
    pieces = words["better"]
    dropped = words["cues"]["accusation"] + words["cues"]["closed"] + words["cues"]["hedging"]
    kept = [s for s in (sentences(line.text) or [line.text]) if not matches(s, dropped) and s.strip()]
    # A long, non-English or accusing line (tone 0, in whatever words) starts again from the essentials.
    fresh = not line.english or rambling(line) or got["tone"] == 0
    if fresh:
        kept = []  # a stronger version of a long or non-English line starts from the essentials
    filled = {**words["neutral"], **{k: v for k, v in case.items() if v}}
    said = line.text.lower()
    before, after = [], []
    for criterion in ("data", "impact", "solutions", "openness", "ask"):
        if criterion not in expected or (got[criterion] == 2 and not fresh):
            continue
        piece = pieces[criterion]
        if criterion == "data" and case.get("hours") and str(case["hours"]) in said and not fresh:
            continue  # the hours are in the line already: a fact is never said twice
        if criterion == "data" and not case.get("hours"):
            piece = pieces["data_unknown"]
        if criterion == "impact" and (not case.get("metric") or case["metric"].lower() in said):
            piece = pieces["impact_general"]
        (before if criterion in ("data", "impact") else after).append(piece.format(**filled))
    if beat == "opening" and not kept:
        before.insert(0, pieces["calm_opening"])
    if kept == sentences(line.text) and not before and not after:
        return line.text  # nothing to add or take away
    kept = [_tidied(s) for s in kept]  # their own words, as said aloud: "honestly ... im sleeping like 5 hrs" tidied
    # The beat's order: thanks and the opening first, then facts, the person's own words, proposals, the ask.
    opening = [s for s in kept if matches(s, words["cues"]["thanks"])]
    kept = [s for s in kept if s not in opening]
    return re.sub(r"\s+", " ", " ".join(_sentence(s) for s in [*opening, *before, *kept, *after])).strip()


def _tidied(sentence: str) -> str:
    body = tidy(sentence, edges=False)
    if not body:
        return sentence
    return body[:1].upper() + body[1:] + (sentence.strip()[-1] if sentence.strip()[-1:] in ".?!" else "")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text[-1:] in ".?!" else text + "."
