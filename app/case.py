"""One answer to a rehearsal case question, read into clean script phrasing.

"honestly the label audits could wait, maybe till march or so tbh" becomes {defer: "the label audits",
defer_until: "March"}; "priya could take over on-call triage" becomes {delegate: "on-call triage",
delegate_to: "Priya"}. The reading (app/reading.py) says whether the message answers at all (a feeling,
a question back or small talk doesn't) and gives its numbers; the rest is the answer's structure — fillers
dropped, the verb the script supplies dropped, the task split from its date or person — with sanity checks
(hours within a week, hours freed fewer than hours worked, no one delegating to themselves) and corrections
("Priya, I just said", "actually make that 45") understood. Word lists live in prompts/rehearse.yaml.
Measured on evals/rehearse/case (see README, Rehearse).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.health import mentions_health
from app.prompts import texts
from app.reading import Reading
from ingest.split import sentences

NUMBER_ITEMS = ("hours", "freed")
WEEK_HOURS = 168
# What the reading may say instead of an answer ("offdomain" is left out: an answer in German reads so).
NOT_ANSWERS = ("feeling", "question", "smalltalk")
DECLINE_WORDS = 10  # longer answers that contain a decline phrase usually answer after it
QUESTION_START = re.compile(r"(?i)^\W*(what|which|how|why|who|when|where|do|does|did|can|could|should|is|are|"
                            r"would|will|like|you mean|as in)\b")


@dataclass(frozen=True)
class CaseAnswer:
    values: dict[str, str] = field(default_factory=dict)  # case items -> clean phrasing
    problem: str | None = None  # "skip", "not_an_answer" or "implausible"
    correction: bool = False  # it replaces a value given before


def _words() -> dict:
    return texts("rehearse")["case_reading"]


def _phrases(items: list[str]) -> re.Pattern:
    return re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(p) for p in sorted(items, key=len, reverse=True))
                      + r")(?![\w'])", re.IGNORECASE)


def _tidy(text: str) -> str:
    words = _words()
    text = _phrases(words["fillers"]).sub(" ", text)
    edge = _phrases(words["edge_fillers"]).pattern
    # At the start or the end of the answer (after punctuation a filler leaves), or just before a number.
    text = re.sub(rf"(?i)^[\s,;:.!?-]*(?:{edge}[\s,;:.!?-]*)+|(?:[\s,;:]*{edge})+[\s,;:.!?]*$", " ", text)
    text = re.sub(rf"(?i){edge}\s+(?=\d)", "", text)
    text = re.sub(r"\s*[,;:]+\s*(?=[,;:.!?]|$)", "", text)  # punctuation a dropped filler leaves behind
    text = re.sub(r"\s+", " ", text).strip(" ,;:.!?-–—")
    text = re.sub(r"(?i)\b(i)\b", "I", text)
    text = re.sub(r"(?i)\bim\b", "I'm", text)
    for month in words["months"]:
        text = re.sub(rf"(?i)\b{month}(s?)\b", lambda m, name=month: name.capitalize() + m.group(1), text)
    return text


def _strip_verbs(text: str, item: str) -> str:
    words = _words()
    lead, tail = words["lead"].get(item, []), words["tail"].get(item, [])
    changed = True
    while changed and text:
        changed = False
        text = text.strip(" ,;:.")
        for phrase in lead:
            if text.lower().startswith(phrase + " ") and len(text) > len(phrase) + 1:
                text, changed = text[len(phrase) + 1:].lstrip(), True
        for phrase in tail:
            if text.lower().endswith(" " + phrase):
                text, changed = text[: -len(phrase) - 1].rstrip(), True
    return text.strip(" ,;:.")


def _split(text: str, markers: list[str]) -> tuple[str, str]:
    """(before, after) at the first marker that leaves words on both sides, else (text, ""). A marker
    ending in "after" keeps it: "until after the launch" waits for "after the launch"."""
    for marker in markers:
        match = re.search(rf"(?i)(?<=\s){re.escape(marker)}(?=\s)", text)
        if match:
            head, tail = text[: match.start()].strip(" ,"), text[match.end():].strip()
            if head and tail:
                return head, f"after {tail}" if marker.endswith("after") else tail
    return text, ""


def _number(reading: Reading) -> float | None:
    """The number an hours answer gives: a range's midpoint, "12 hour days" as a five-day week, the figure
    after "more like" or "so" ("40 on paper, really more like 52"; "6 days x 10 hours so 60")."""
    numbers = reading.numbers
    if not numbers:
        return None
    if re.search(r"(?i)\b(more like|really|so|say|closer to|call it)\s+\S*\d", reading.text) and len(numbers) >= 2:
        return numbers[-1]
    if re.search(r"(?i)\bhours?\s*(a|per|each)\s*day\b|\bhour days?\b|\bh days?\b|\d+h\b", reading.text):
        return numbers[0] * 5
    if re.search(r"(?i)\d\s*(-|–|to|and)\s*\d", reading.text) and len(numbers) >= 2:
        return (numbers[0] + numbers[1]) / 2
    return numbers[0]


def _first_clause(text: str) -> str:
    """A task, not the story around it: "the on-call rotation, it never stops" -> "the on-call rotation"."""
    cut = re.split(r"(?i)\s*(?:[.;!?]\s+|\s[—–-]\s|,\s*(?=(?:it|it's|its|we|we're|they|nobody|no one|that|which|so|"
                   r"because|since|i|I'm|my|our|and it|but|everyone|everything)\b))", text, maxsplit=1)
    return cut[0].strip(" ,") or text


def read_answer(item: str, reading: Reading, *, case: dict) -> CaseAnswer:
    """What one answer to the question for `item` says; `case` holds what was answered before."""
    words = _words()
    text = reading.text.strip()
    marker = _phrases(words["corrections"])
    correction = bool(marker.search(text)) and bool(case.get(item))
    if correction or marker.search(text):  # what follows the last correction is what counts
        text = marker.split(text)[-1] or text
    if _declines(text):
        return CaseAnswer(problem="skip")
    text, negated = _instead(text)
    correction = correction or negated and bool(case.get(item))
    # A question back, anywhere in the answer: "area as in team or project?", "is a vibe a metric? it's slow".
    asks_back = any(q.endswith("?") and (QUESTION_START.match(q) or " or " in q) for q in sentences(text))
    if (asks_back or reading.wants(*NOT_ANSWERS, at_least=0.5)) and not reading.numbers:
        return CaseAnswer(problem="not_an_answer")
    if item not in ("wellbeing", "metric") and mentions_health(text):
        return CaseAnswer(problem="not_an_answer")  # "not sleeping great" is not a task to defer
    if item in NUMBER_ITEMS:
        if re.search(r"24\s*/\s*7|all the time|every waking hour", text, re.IGNORECASE):
            return CaseAnswer(problem="implausible")
        value = _number(Reading(text=text, context=reading.context, embedder=reading.embedder))
        if value is None:
            return CaseAnswer(problem="not_an_answer")
        worked = float(case["hours"]) if item == "freed" and case.get("hours") else WEEK_HOURS
        if not 0 < value <= WEEK_HOURS or item == "freed" and value >= worked:
            return CaseAnswer(problem="implausible")
        return CaseAnswer({item: f"{value:g}"}, correction=correction)
    clean = _first_clause(_tidy(text)) if item not in ("wellbeing", "metric") else _tidy(text)
    if item in ("defer", "delegate"):
        partner = "defer_until" if item == "defer" else "delegate_to"
        clean = _strip_verbs(clean, item)
        if item == "delegate":
            taker = re.match(rf"(?i)^(.+?)\s+(?:{'|'.join(map(re.escape, words['takes']))})\s+(.+)$", clean)
            if taker:  # "priya could take over on-call triage"
                return _checked({item: _strip_verbs(taker.group(2), item), partner: _person(taker.group(1))},
                                correction)
        head, tail = _split(clean, words["split"][item])
        values = {item: _strip_verbs(head, item)}
        if tail:
            values[partner] = _person(tail) if item == "delegate" else _until(tail)
        return _checked(values, correction)
    if item == "delegate_to":
        return _checked({item: _person(_strip_verbs(clean, item))}, correction)
    if item == "defer_until":
        return CaseAnswer({item: _until(clean)}, correction=correction)
    clean = _strip_verbs(clean, item)
    if item == "wellbeing" and clean:  # a whole sentence in the script
        clean = clean[:1].upper() + clean[1:] + ("" if clean[-1] in ".!?" else ".")
    return CaseAnswer({item: clean}, correction=correction) if clean else CaseAnswer(problem="skip")


def _instead(text: str) -> tuple[str, bool]:
    """The value a "not X, Y" or "Y, not X" answer gives (Y), and whether it set one aside."""
    lead = re.sub(r"(?i)^\W*(?:(?:oops|wait|sorry|hmm|actually|ah)\b[\s,.!-]*|(?:no|nope)\s*[,.!-]+\s*)+", "", text)
    first = re.match(r"(?i)^not\s+[^,.;]+[,.;]\s*(.+)$", lead)
    if first:
        return first.group(1), True
    last = re.match(r"(?i)^(.+?)[,\s]+not\s+[^,.;]+(?:[,.;].*)?$", lead)
    if last and not re.search(r"(?i)\b(?:is|are|was|were|do|does|did|can|could|have|has)$", last.group(1)):
        return last.group(1), True
    return (lead, True) if lead != text and lead else (text, False)


def _declines(text: str) -> bool:
    """A decline: a decline phrase in a short answer with no figure ("there's literally no one", "eh, not
    really"), or a word like "none" or "nobody" standing alone or before a comma ("nobody, everyone's
    underwater"; but "next sprint" and "pass the triage to Lena" answer)."""
    words = _words()
    lowered = " ".join(_phrases(words["fillers"]).sub(" ", text.lower()).split())
    tokens = re.findall(r"[\w']+", lowered)
    alone = re.match(rf"^\W*(?:{_phrases(words['skip_words']).pattern})\s*(?:$|[,.;:!?…—–-])", lowered, re.IGNORECASE)
    if not tokens or alone and (len(tokens) == 1 or tokens[0] not in words["skip_alone"]):
        return True
    return len(tokens) <= DECLINE_WORDS and not re.search(r"(?<!p)\d", lowered) \
        and bool(_phrases(words["skips"]).search(lowered))


def _person(text: str) -> str:
    """Who takes it, as the script names them: the story around the name dropped ("chloe, she knows the
    codebase", "kofi (he built half of it)"), a name after its description kept ("our intern, Lena"),
    "folks" as a team, a lone name capitalised."""
    words = _words()
    text = re.sub(r"\s*\([^)]*\)?", "", text.strip())
    text = _tidy(re.sub(r"(?i)^(to|over to|with)\s+", "", text))
    text = re.split(r"(?i),?\s+(?:he|she|they|who|since|as|because)\b|\s+(?:could|can|should|would|will)\s", text)[0]
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > 1 and len(parts[-1].split()) == 1:  # "the new grad, jordan": the name
        text = parts[-1]
    text = re.sub(rf"(?i)\b(?:{'|'.join(map(re.escape, words['team_words']))})$", "team", text.strip(" ,"))
    return text[:1].upper() + text[1:] if text and " " not in text else text


def _until(text: str) -> str:
    return _tidy(re.sub(r"(?i)^(until|till|til|to|by)\s+", "", text.strip()))


def _checked(values: dict[str, str], correction: bool) -> CaseAnswer:
    if values.get("delegate_to", "").lower() in _words()["oneself"]:
        return CaseAnswer(problem="implausible")
    values = {k: v for k, v in values.items() if v}
    return CaseAnswer(values, correction=correction) if values else CaseAnswer(problem="not_an_answer")


def edits_of(text: str) -> tuple[dict[str, str], list[str]]:
    """The "label: value" lines after "/case" as {item: value} (an empty value clears the item), and
    the names that are no part of the case. An item's label or its own name both work."""
    def key(name: str) -> str:
        return " ".join(name.replace("_", " ").lower().split())

    spec = texts("rehearse")["case"]
    names = {key(k): k for k in spec} | {key(v["label"]): k for k, v in spec.items()}
    edits, unknown = {}, []
    body = text.split(None, 1)[1] if len(text.split(None, 1)) == 2 else ""
    for line in body.splitlines():
        name, colon, value = line.partition(":")
        if not colon:
            continue
        if key(name) in names:
            edits[names[key(name)]] = " ".join(value.split())
        else:
            unknown.append(name.strip())
    return edits, unknown
