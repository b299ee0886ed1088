"""Crisis routing: run on every message, in every mode, before any flow sees it.

Two parts, either of which is enough:
1. **Lexicons**, one file per language in prompts/crisis/ (22 languages and scripts): high-precision
   phrases for wanting to die, suicide, self-harm and harming others, and that language's idioms,
   jargon and negations, which are blanked first ("this deadline is killing me", "kill the process",
   "I'm not suicidal"). Every language's safe phrases are blanked before any language's crisis
   phrases are matched, so "suicide professionnel" in French doesn't trip English "suicide".
   Adding a language is adding one file (and its examples, which tests/test_crisis_lexicons.py plays).
2. **A learned classifier** (app/crisis_encoder.py, the encoder fine-tuned) for wording no list foresaw: a
   farewell with a decision and a date, a method described without a word for suicide, giving
   things away. It reads the message and, joined, the person's last messages before it, so a signal
   spread over two messages is caught. Its threshold was chosen on the dev split for recall.

The reply is fixed and human-written, in the language the person wrote in when a lexicon knows it
(its `reply`), else the English one in prompts/safety.yaml. Health symptoms are app/health.py's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from app import crisis_encoder
from app.config import PROMPTS_DIR
from app.health import mentions_health
from app.prompts import texts
from app.text import normal, strip_accents

LEXICON_DIR = PROMPTS_DIR / "crisis"
EARLIER = 2  # earlier messages of the person's the classifier reads with the current one
# An English lexicon phrase counts unless the classifier is this sure it is not a crisis: chosen midway between
# the highest denial on dev (0.17) and its lowest real crisis with a phrase (0.29) on the first fine-tuned model;
# on the retrained one those are 0.16 (a moderation question) and 0.61, so 0.23 still parts them.
LEXICON_AGREEMENT = 0.23
# Inside a check-in or a rehearsal, the classifier alone must be surer: 0.92 was the score that flagged 1% of dev's
# hard look-alikes when it was chosen; the classifier retrained with the rehearsal's lines puts that at 0.78, and at
# 0.92 it flags none of 4,161 labelled rehearsal lines and check-in answers (dev recall from it alone 0.89).
# Hedged requests ("...things could be moved around so I can breathe?", 0.83) are its known weak spot.
IN_FLOW_THRESHOLD = 0.92
SHORT_WORDS = 4
SHORT_ALONE_DISCOUNT = 0.5  # a short first message must be nearly certain to count on the classifier alone
# The classifier learned English; on other languages it is unsure of much, so there the lexicon decides
# unless the classifier is nearly certain (the lexicons' calm examples, idioms and negations in 21 languages:
# 80 of 172 flagged at the English threshold, 1 at this one, which still catches 14 of their 171 crises alone).
OTHER_LANGUAGE_THRESHOLD = 0.995
SPACELESS = ("Han", "Japanese")  # scripts matched as substrings, not at word boundaries
_BLANK = " | "
# Letters and marks of the scripts the lexicons use; Hangul jamo (ㅠㅠ) stay outside, as a boundary.
_WORD = ("0-9A-Za-z\u00aa\u00b5\u00ba\u00c0-\u024f\u0300-\u036f\u0370-\u03ff\u0400-\u052f\u0590-\u05ff\u0610-\u061a\u0620-\u0669\u066e-\u06d3\u06d5-\u06ff"
         "\u0750-\u077f\u08a0-\u08ff\u0900-\u0dff\u1e00-\u1fff\uac00-\ud7af")


@dataclass
class CrisisMarks:
    """A session's crisis replies: while active, coaching waits until the person chooses to go on."""

    active: bool = False
    times: int = 0
    kind: str = ""
    lang: str = "en"  # the language the crisis reply was given in, for what follows it


@dataclass(frozen=True)
class Assessment:
    crisis: bool
    health: bool
    kind: str  # why, for the operator: lexicon | threat_to_others | classifier | health | none
    score: float  # the classifier's probability of a crisis
    lang: str = "en"  # the language of the reply


@dataclass(frozen=True)
class Lexicon:
    lang: str
    script: str
    markers: frozenset[str]
    crisis: tuple[re.Pattern, ...]
    plain: tuple[re.Pattern, ...]  # crisis phrases no one uses as hyperbole (also in `crisis`)
    negators: frozenset[str]
    harm: tuple[re.Pattern, ...]
    safe: tuple[re.Pattern, ...]
    reply: dict


def _pattern(phrase: str, *, spaceless: bool) -> str:
    """A phrase as a pattern: " * " is a gap of up to three words (six characters without spaces)."""
    parts = [re.escape(p).replace(r"\ ", r"\s+") for p in phrase.split(" * ")]
    return ".{0,6}".join(parts) if spaceless else r"(?:\s+\S+){0,3}\s+".join(parts)


def _patterns(phrases: list[str], *, spaceless: bool) -> tuple[re.Pattern, ...]:
    """One pattern for a whole list (compiling thousands of small ones took seconds at every start)."""
    forms = {normal(p) for p in phrases} | ({strip_accents(normal(p)) for p in phrases} if not spaceless else set())
    body = "|".join(_pattern(p, spaceless=spaceless) for p in sorted(forms, key=len, reverse=True) if p.strip())
    if not body:
        return ()
    return (re.compile(f"(?:{body})" if spaceless else rf"(?<![{_WORD}])(?:{body})(?![{_WORD}])"),)


@lru_cache(maxsize=1)
def lexicons() -> tuple[Lexicon, ...]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found = []
    for path in sorted(LEXICON_DIR.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
        spaceless = data["script"] in SPACELESS
        found.append(Lexicon(
            lang=data["lang"], script=data["script"], markers=frozenset(normal(m) for m in data.get("markers", [])),
            crisis=_patterns([*data.get("crisis", []), *data.get("plain", [])], spaceless=spaceless),
            plain=_patterns(data.get("plain", []), spaceless=spaceless),
            negators=frozenset(normal(n) for n in data.get("negators", [])),
            harm=_patterns(data.get("harm_others", []), spaceless=spaceless),
            safe=_patterns(data.get("safe", []), spaceless=spaceless), reply=data["reply"]))
    return tuple(found)


def _blanked(text: str) -> str:
    """The message with every language's idioms, jargon and negations blanked out."""
    for lexicon in lexicons():
        for pattern in lexicon.safe:
            text = pattern.sub(_BLANK, text)
    return text


NEGATION_WORDS = 5  # a negator this many words before a plain phrase, in its clause, negates it


def match(text: str) -> tuple[str, str, bool] | None:
    """(language, "crisis" | "threat_to_others", plain) for the first lexicon phrase in the message, else None.

    `plain`: a crisis phrase no one uses as hyperbole, not negated ("i'm not thinking about ending my life")."""
    written = normal(text)
    for form in dict.fromkeys((_blanked(written), _blanked(strip_accents(written)))):
        for lexicon in lexicons():
            if any(p.search(form) for p in lexicon.crisis):
                return lexicon.lang, "crisis", any(not _negated(form[:m.start()], lexicon.negators)
                                                   for p in lexicon.plain for m in p.finditer(form))
            if any(p.search(form) for p in lexicon.harm):
                return lexicon.lang, "threat_to_others", False
    return None


def _negated(before: str, negators: frozenset[str]) -> bool:
    clause = re.split(r"[.,;:!?()\n|]", before)[-1]
    return bool(set(re.findall(rf"[{_WORD}']+", clause)[-NEGATION_WORDS:]) & negators)


def language(text: str) -> str:
    """The lexicon language the message is most likely written in (by script, then marker words); 'en' if none."""
    written = normal(text)
    scripts = _scripts(written)
    words = set(re.findall(rf"[{_WORD}']+", written))
    best, best_hits = "en", 0
    for lexicon in lexicons():
        if lexicon.script != "Latin" and lexicon.script not in scripts:
            continue
        hits = len(words & lexicon.markers) if lexicon.script not in SPACELESS else \
            sum(m in written for m in lexicon.markers)
        hits += 2 * (lexicon.script != "Latin" and lexicon.script in scripts)
        if hits > best_hits:
            best, best_hits = lexicon.lang, hits
    return best


def _scripts(text: str) -> set[str]:
    found = set()
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if "HIRAGANA" in name or "KATAKANA" in name:
            found.add("Japanese")
        elif "CJK" in name:
            found |= {"Han", "Japanese"}
        else:
            found.add(name.split(" ")[0].capitalize())  # LATIN, CYRILLIC, DEVANAGARI, ARABIC, HANGUL, BENGALI
    return found


def crisis_probability(texts_: list[str]) -> float:
    """The classifier's highest crisis probability over the given readings of the message."""
    return float(crisis_encoder.probabilities([t[:2000] for t in texts_]).max())


def assess(text: str, *, classify: bool = False, earlier: list[str] | tuple[str, ...] = (),
           in_flow: bool = False) -> Assessment:
    """Is this message a crisis (route to the fixed reply) or about health symptoms (add the nudge)?

    `classify`: the learned classifier too (every turn does); without it, the lexicons alone (while coaching
    is paused, only crisis language counts).

    `in_flow`: the person is answering a check-in's or a rehearsal's questions about their work, where
    "60 hours because we're two people down" and "it isn't sustainable" are the point of the exercise;
    there the classifier alone must be surer (the lexicons still decide alone)."""
    health = mentions_health(text)
    found = match(text)
    score = 0.0
    short = len(text.split()) < SHORT_WORDS
    # The classifier reads the message with idioms, jargon and negations blanked ("I'm not suicidal,
    # just tired" is tiredness), unless nothing was blanked (then the words as typed).
    seen = _blanked(normal(text))
    text = text if seen == normal(text) else seen.replace(_BLANK, " ").strip() or text
    if classify and any(ch.isalpha() for ch in text):
        # A reply of a word or two ("Sometimes", "62") tells the classifier nothing on its own; it is
        # read with what came before it (explicit short forms are the lexicons' job).
        readings = [*([] if short and earlier else [text]), *([" ".join([*earlier[-EARLIER:], text])] if earlier else [])]
        score = crisis_probability(readings)
        if short and not earlier:
            score *= SHORT_ALONE_DISCOUNT
    if found:
        lang, kind, plain = found
        # An English phrase the classifier (trained in English) finds nothing dark in is a question about
        # the word ("a suicide-risk classifier for moderation") or hyperbole; a plain phrase is neither, and
        # other languages' phrases decide alone.
        if lang != "en" or plain or not classify or score >= LEXICON_AGREEMENT:
            return Assessment(crisis=True, health=health, kind="threat_to_others" if kind != "crisis" else "lexicon",
                              score=score if lang == "en" else 1.0, lang=lang)
    lang = language(text)
    threshold = crisis_encoder.meta()["threshold"]
    if in_flow:
        threshold = max(threshold, IN_FLOW_THRESHOLD)
    if score >= (threshold if lang == "en" else max(threshold, OTHER_LANGUAGE_THRESHOLD)):
        return Assessment(crisis=True, health=health, kind="classifier", score=score, lang=lang)
    return Assessment(crisis=False, health=health, kind="health" if health else "none", score=score, lang=lang)


def reply_words(lang: str) -> dict:
    """The fixed texts of the crisis reply in a language: crisis, threat, paused, continue and the two choices."""
    words = texts("safety")["crisis"]
    english = {"crisis": words["text"], "threat": words["threat_text"], "paused": words["paused_text"],
               "continue": words["continue_text"], "choice_continue": words["choices"]["continue"],
               "choice_again": words["choices"]["again"]}
    if lang == "en":
        return english
    lexicon = next((lex for lex in lexicons() if lex.lang == lang), None)
    return {**english, **(lexicon.reply if lexicon else {})}


def crisis_text(assessment: Assessment) -> str:
    """The fixed reply for a crisis: the variant for threats to others, or the general one."""
    words = reply_words(assessment.lang)
    return words["threat"] if assessment.kind == "threat_to_others" else words["crisis"]


def continue_choices() -> set[str]:
    """"I'm safe, let's continue" in every language Steady replies in."""
    return {reply_words("en")["choice_continue"], *(lex.reply.get("choice_continue", "") for lex in lexicons())} - {""}


def again_choices() -> set[str]:
    return {reply_words("en")["choice_again"], *(lex.reply.get("choice_again", "") for lex in lexicons())} - {""}
