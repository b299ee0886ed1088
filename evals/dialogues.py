"""Scripted dialogues: load them, play them through the engine, check every reply.

A dialogue is one YAML file in evals/dialogues/ (the file name is its id): a journey, a one-line
description and turns. Each turn is what the person sends (`user:` text, or `choice:` one of the
quick replies the previous reply offered) and what the reply must show (`expect:`). Every reply
also gets the universal checks: well formed, citations that were retrieved that turn and exist in
the corpus, quoted guidance that is verbatim, no traceback. See evals/README.md for the format.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.reply import Reply

DIALOGUES = Path(__file__).parent / "dialogues"
JOURNEYS = ("ask", "checkin", "rehearse", "safety", "input")
MODES = ("ask", "checkin", "rehearse", "crisis")
CITATION_KEYS = ("n", "doc_id", "title", "section", "text", "chunk_id")
# With a model, an answer sentence counts as supported when its best cosine similarity (MiniLM,
# normalised) to a sentence of a passage it cites reaches this. Paraphrases of one sentence score
# about 0.7-0.9 with this model; sentences that only share the topic about 0.3-0.55.
SUPPORT_SIMILARITY = 0.6
MIN_SUPPORT_WORDS = 4  # shorter generated sentences ("Take care.") are not claims to check
_QUOTE = re.compile(r"“(.+?)” \[(\d+)\]")
_MARKER = re.compile(r"\[(\d+)\]")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")
_MISSING = object()


class DialogueError(ValueError):
    """A dialogue file that can't be used as written; the message names the file and the turn."""


@dataclass(frozen=True)
class Turn:
    text: str | None  # what the person types, or None for a quick reply
    choice: str | None  # a quick reply of the previous reply (the welcome's, for the first turn)
    expect: dict  # only the expectations the file states, as check_expectations reads them

    @property
    def sent(self) -> str:
        return self.choice if self.choice is not None else self.text


@dataclass(frozen=True)
class Dialogue:
    id: str
    journey: str
    description: str
    turns: tuple[Turn, ...]


# --- the file format, validated by pydantic (evals/README.md describes it) ----------------------


def _listed(value):
    return [value] if isinstance(value, str | int | float | bool) else value


Listed = BeforeValidator(_listed)  # "x" or ["x", "y"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CountRange(_Strict):
    min: int = 0
    max: int | None = None


class Expect(_Strict):
    mode: Literal[MODES] | None = None
    contains: Annotated[list[str], Listed] = []
    not_contains: Annotated[list[str], Listed] = []
    notice_contains: Annotated[list[str], Listed] = []
    cited_docs: Annotated[list[str], Listed] = []
    cited_sections: Annotated[list[str], Listed] = []
    choices_include: Annotated[list[str], Listed] = []
    citations: Literal["none"] | int | CountRange | None = None
    grounded: bool | None = None
    crisis: bool | None = None
    state: dict[str, object] = {}  # dotted paths into reply.state (see resolve), each with the value it must have
    state_includes: dict[str, Annotated[list[object], Listed]] = {}
    scores: dict[str, int | tuple[int, int]] = {}  # the last line's score per criterion: exact, or [low, high]

    @field_validator("cited_docs")
    @classmethod
    def _real_documents(cls, docs: list[str], info: ValidationInfo) -> list[str]:
        known = (info.context or {}).get("doc_ids")
        for doc_id in docs:
            if known is not None and doc_id not in known:
                raise ValueError(f"{doc_id!r}, no document of the corpus (ids: {', '.join(sorted(known))})")
        return docs


class Repeat(_Strict):
    repeat: str
    times: int


class TurnSpec(_Strict):
    user: str | Repeat | None = None  # {repeat: "...", times: N}: a long message without a long file
    choice: str | None = None
    expect: Expect = Expect()

    @model_validator(mode="before")
    @classmethod
    def _one_of(cls, raw):
        if not isinstance(raw, dict) or ("user" in raw) == ("choice" in raw):
            raise ValueError("a turn has either user: (what the person types) or choice: (a quick reply)")
        return {**raw, "expect": raw.get("expect") or {}}


class DialogueSpec(_Strict):
    journey: Literal[JOURNEYS]
    description: str = ""
    turns: Annotated[list[TurnSpec], Field(min_length=1)]


# What a value that may take several shapes must look like (pydantic reports each shape it tried).
SHAPES = {"citations": "none, a number, or {min: N, max: N}", "scores": "a number or [low, high]"}


def _problems(error: ValidationError) -> str:
    """pydantic's findings as "turn 2: expect.citations: must be ..." that a person can act on."""
    found: dict[tuple[str, ...], list[str]] = {}
    for problem in error.errors():
        loc = list(problem["loc"])
        where = []
        if loc[:1] == ["turns"] and len(loc) > 1 and isinstance(loc[1], int):
            where.append(f"turn {loc[1] + 1}")
            loc = loc[2:]
        # Neither the shapes pydantic tried ("int", "CountRange", "tuple[int, int]") nor positions in a list
        # are part of the path a person reads.
        path = [part for part in loc if isinstance(part, str) and part.isidentifier()
                and part not in ("int", "str", "bool") and not part[:1].isupper()]
        message = "not a known key" if problem["type"] == "extra_forbidden" else problem["msg"].removeprefix("Value error, ")
        found.setdefault((*where, ".".join(path)), []).append(message)
    said = []
    for (*where, path), messages in found.items():
        parts = path.split(".")
        shape = SHAPES.get(parts[1] if parts[0] == "expect" and len(parts) > 1 else "")
        message = f"must be {shape}" if shape and len(messages) > 1 else "; ".join(messages)
        said.append(": ".join([*where, *([path] if path else []), message]))
    return "; ".join(said)


def load_dialogue(path: Path, *, doc_ids: set[str] | None = None) -> Dialogue:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DialogueError(f"{path.name}: not readable YAML ({exc})") from exc
    try:
        spec = DialogueSpec.model_validate(raw, context={"doc_ids": doc_ids})
    except ValidationError as exc:
        raise DialogueError(f"{path.name}: {_problems(exc)}") from None
    turns = []
    for turn in spec.turns:
        expect = turn.expect.model_dump(exclude_unset=True)
        if turn.choice is not None:
            turns.append(Turn(text=None, choice=turn.choice, expect=expect))
        else:
            text = turn.user.repeat * turn.user.times if isinstance(turn.user, Repeat) else turn.user
            turns.append(Turn(text=text or "", choice=None, expect=expect))
    return Dialogue(id=path.stem, journey=spec.journey, description=spec.description, turns=tuple(turns))


def load_suite(folder: Path = DIALOGUES, *, doc_ids: set[str] | None = None) -> list[Dialogue]:
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not paths:
        raise DialogueError(f"No dialogues (*.yaml) in {folder}")
    return [load_dialogue(p, doc_ids=doc_ids) for p in paths]


# --- expectations ---------------------------------------------------------------------------


def resolve(data, path: str):
    """The value at a dotted path: `case.hours`, `top.0` (a list position), `levers[].id` (the id
    of every item of the list, as a list). Returns _MISSING when the path leads nowhere."""

    def walk(value, parts: list[str]):
        if not parts:
            return value
        head, rest = parts[0], parts[1:]
        if head.endswith("[]"):
            items = walk(value, [head[:-2]]) if head[:-2] else value
            if not isinstance(items, list):
                return _MISSING
            found = []
            for item in items:
                got = walk(item, rest)
                if got is _MISSING:
                    return _MISSING
                # Nested [] flatten: "a[].b[].c" is every c of every b of every a.
                found.extend(got) if any(p.endswith("[]") for p in rest) else found.append(got)
            return found
        if isinstance(value, dict):
            return walk(value[head], rest) if head in value else _MISSING
        if isinstance(value, list) and head.lstrip("-").isdigit() and -len(value) <= int(head) < len(value):
            return walk(value[int(head)], rest)
        return _MISSING

    return walk(data, path.split(".") if path else [])


def _count_ok(count, n: int) -> bool:
    if count == "none":
        return n == 0
    if isinstance(count, int):
        return n == count
    return count.get("min", 0) <= n <= count.get("max", n)


def check_expectations(reply: Reply, expect: dict) -> list[str]:
    """What in the reply differs from the turn's expectations (empty when it all holds)."""
    problems = []
    text = reply.text.lower()
    docs = [c.get("doc_id") for c in reply.citations]
    sections = [str(c.get("section", "")) for c in reply.citations]
    if "mode" in expect and reply.mode != expect["mode"]:
        problems.append(f"mode is {reply.mode!r}, expected {expect['mode']!r}")
    if "crisis" in expect:
        routed = reply.mode == "crisis" and reply.state.get("crisis") is True
        if routed != bool(expect["crisis"]):
            problems.append("routed to the crisis reply" if routed else "not routed to the crisis reply")
    problems += [f"text lacks {s!r}" for s in expect.get("contains", []) if s.lower() not in text]
    problems += [f"text contains {s!r}" for s in expect.get("not_contains", []) if s.lower() in text]
    problems += [f"notice lacks {s!r} (notice: {reply.notice!r})" for s in expect.get("notice_contains", [])
                 if s.lower() not in reply.notice.lower()]
    problems += [f"{d} not cited (cited: {', '.join(docs) or 'nothing'})" for d in expect.get("cited_docs", [])
                 if d not in docs]
    problems += [f"no cited section contains {s!r} (sections: {'; '.join(sections) or 'none'})"
                 for s in expect.get("cited_sections", []) if not any(s.lower() in x.lower() for x in sections)]
    if "citations" in expect and not _count_ok(expect["citations"], len(reply.citations)):
        problems.append(f"{len(reply.citations)} citations, expected {expect['citations']}")
    problems += [f"choices lack {c!r} (choices: {reply.choices})" for c in expect.get("choices_include", [])
                 if c not in reply.choices]
    if "grounded" in expect and bool(reply.state.get("grounded")) != bool(expect["grounded"]):
        problems.append(f"grounded is {bool(reply.state.get('grounded'))}, expected {bool(expect['grounded'])}")
    for path, wanted in expect.get("state", {}).items():
        got = resolve(reply.state, path)
        if got is _MISSING:
            problems.append(f"state.{path} is missing")
        elif got != wanted:
            problems.append(f"state.{path} is {got!r}, expected {wanted!r}")
    for path, wanted in expect.get("state_includes", {}).items():
        got = resolve(reply.state, path)
        if got is _MISSING or not isinstance(got, list | str | dict):
            problems.append(f"state.{path} is missing or not a list")
            continue
        problems += [f"state.{path} lacks {w!r} (has {got!r})" for w in wanted if w not in got]
    if "scores" in expect:
        problems += _check_scores(reply.state, expect["scores"])
    return problems


def _check_scores(state: dict, wanted: dict) -> list[str]:
    feedback = state.get("feedback")
    if not isinstance(feedback, list) or not feedback or not isinstance(feedback[-1], dict):
        return ["no feedback on a line in state.feedback"]
    scores = feedback[-1].get("scores", {})
    problems = []
    for criterion, bounds in wanted.items():
        low, high = (bounds, bounds) if isinstance(bounds, int) else bounds
        got = scores.get(criterion)
        if not isinstance(got, int) or not low <= got <= high:
            problems.append(f"score {criterion} is {got!r}, expected {low}..{high}")
    return problems


# --- universal checks ---------------------------------------------------------------------


@dataclass
class Audit:
    """What the universal checks found in one reply, counted for the report."""

    problems: list[str] = field(default_factory=list)
    citations: int = 0
    valid_citations: int = 0
    quoted_sentences: int = 0
    verbatim_sentences: int = 0


def _well_formed(reply) -> list[str]:
    if not isinstance(reply, Reply):
        return [f"the engine returned {type(reply).__name__}, not a Reply"]
    problems = []
    if reply.mode not in MODES:
        problems.append(f"unknown mode {reply.mode!r}")
    if not isinstance(reply.text, str) or not reply.text.strip():
        problems.append("empty reply text")
    if not isinstance(reply.choices, list) or not all(isinstance(c, str) and c.strip() for c in reply.choices):
        problems.append("choices must be a list of non-empty strings")
    if not isinstance(reply.state, dict) or not isinstance(reply.notice, str):
        problems.append("state must be a dict and notice a string")
    if not isinstance(reply.citations, list) or not all(
        isinstance(c, dict) and set(CITATION_KEYS) <= c.keys() for c in reply.citations
    ):
        problems.append(f"every citation needs {', '.join(CITATION_KEYS)}")
    try:
        dumped = json.dumps(reply.to_json(), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        return [*problems, f"reply is not JSON-serialisable ({exc})"]
    if _TRACEBACK.search(dumped):
        problems.append("the reply shows a traceback")
    return problems


def audit(reply, *, retrieved: set[str], corpus: dict[str, tuple[str, str]], generated: bool) -> Audit:
    """Universal checks on one reply. retrieved: chunk ids the retriever returned during this turn;
    corpus: chunk id -> (doc id, text) of every passage in the index."""
    result = Audit(problems=_well_formed(reply))
    if result.problems:
        return result
    numbers = [c["n"] for c in reply.citations]
    if len(set(numbers)) != len(numbers) or not all(isinstance(n, int) and n >= 1 for n in numbers):
        result.problems.append(f"citation numbers must be distinct positive integers, got {numbers}")
    by_number = {c["n"]: c for c in reply.citations}
    dangling = sorted({int(n) for n in _MARKER.findall(reply.text)} - set(by_number))
    if dangling:
        result.problems.append(f"the text cites {', '.join(f'[{n}]' for n in dangling)}, which no citation has")
    for c in reply.citations:
        result.citations += 1
        known = corpus.get(c["chunk_id"])
        if known is None:
            result.problems.append(f"citation [{c['n']}] ({c['chunk_id']}) is no passage of the corpus")
        elif (c["doc_id"], c["text"]) != known:
            result.problems.append(f"citation [{c['n']}] does not match its passage in the corpus")
        elif c["chunk_id"] not in retrieved:
            result.problems.append(f"citation [{c['n']}] ({c['doc_id']} — {c['section']}) was not retrieved this turn")
        else:
            result.valid_citations += 1
    if generated:  # a model's prose is measured by support (see support_share), not verbatim quotes
        return result
    from ingest.split import sentences

    for quote, n in _QUOTE.findall(reply.text):
        cited = by_number.get(int(n), {}).get("text", "")
        for piece, verbatim in _quoted_sentences(quote, sentences(cited)):
            result.quoted_sentences += 1
            result.verbatim_sentences += verbatim
            if not verbatim:
                result.problems.append(f"quoted text not verbatim in passage [{n}]: {piece[:80]!r}")
    return result


def _quoted_sentences(quote: str, source: list[str]) -> list[tuple[str, bool]]:
    """Read a quote as the cited passage's sentences joined by spaces (the embedded engine may
    skip sentences between them): each piece, and whether it is a sentence of the passage."""
    from ingest.split import sentences

    pieces = []
    by_length = sorted(set(source), key=len, reverse=True)
    rest = quote.strip()
    while rest:
        match = next((s for s in by_length if rest.startswith(s) and rest[len(s):len(s) + 1] in ("", " ")), None)
        piece = match or (sentences(rest) or [rest])[0]
        pieces.append((piece, match is not None))
        rest = rest[len(piece):].strip() if rest.startswith(piece) else ""
    return pieces


def support_share(reply: Reply, *, embedder) -> tuple[int, int]:
    """A generated answer's sentences supported by a cited passage: (supported, checked)."""
    import numpy as np

    from ingest.split import sentences

    claims = [s for s in sentences(_MARKER.sub("", reply.text)) if len(s.split()) >= MIN_SUPPORT_WORDS]
    evidence = [s for c in reply.citations for s in sentences(c["text"])]
    if not claims:
        return 0, 0
    if not evidence:
        return 0, len(claims)
    similarity = np.asarray(embedder.embed_documents(claims)) @ np.asarray(embedder.embed_documents(evidence)).T
    return int((similarity.max(axis=1) >= SUPPORT_SIMILARITY).sum()), len(claims)


# --- playing a dialogue -------------------------------------------------------------------


class RecordingRetriever:
    """Wraps the retriever the engine uses and notes every passage it hands out, so a citation
    can be checked against what was actually retrieved during that turn."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.seen: set[str] = set()

    def __getattr__(self, name: str):
        from app.retrieval import Passage

        value = getattr(self._inner, name)
        if not callable(value):
            return value

        def recorded(*args, **kwargs):
            out = value(*args, **kwargs)
            for item in out if isinstance(out, list | tuple) else [out]:
                if isinstance(item, Passage):
                    self.seen.add(item.chunk_id)
            return out

        return recorded

    def __len__(self) -> int:
        return len(self._inner)


@dataclass
class TurnResult:
    sent: str
    reply: Reply | None
    problems: list[str]
    audit: Audit
    seconds: float


@dataclass
class DialogueResult:
    dialogue: Dialogue
    turns: list[TurnResult] = field(default_factory=list)
    stopped: str = ""  # why the dialogue could not go on, if it stopped early

    @property
    def passed(self) -> bool:
        return not self.stopped and all(not t.problems for t in self.turns)

    def failures(self) -> list[str]:
        found = [f"turn {i}: {p}" for i, t in enumerate(self.turns, 1) for p in t.problems]
        return [*found, *([self.stopped] if self.stopped else [])]


def corpus_passages(index) -> dict[str, tuple[str, str]]:
    """chunk id -> (doc id, text) of every passage in the index (probes left out)."""
    ids, texts, metas = index.all_chunks()
    return {i: (m["doc_id"], t) for i, t, m in zip(ids, texts, metas, strict=True) if m.get("kind") == "chunk"}


def play(engine, recorder: RecordingRetriever, dialogue: Dialogue, *, corpus: dict[str, tuple[str, str]]) -> DialogueResult:
    """One dialogue in a fresh session; every turn through Engine.send, as an interface would."""
    result = DialogueResult(dialogue)
    session = engine.new_session()
    offered = engine.welcome().choices
    for number, turn in enumerate(dialogue.turns, 1):
        if turn.choice is not None and turn.choice not in offered:
            result.stopped = f"turn {number}: choice {turn.choice!r} was not offered (choices: {offered})"
            break
        recorder.seen = set()
        started = time.perf_counter()
        try:
            reply = engine.send(session, turn.sent)
        except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported with the dialogue
            result.stopped = f"turn {number}: the engine raised {exc.__class__.__name__}: {exc}"
            break
        seconds = time.perf_counter() - started
        generated = isinstance(reply, Reply) and bool(reply.state.get("generated"))
        found = audit(reply, retrieved=set(recorder.seen), corpus=corpus, generated=generated)
        problems = list(found.problems)
        if isinstance(reply, Reply):
            # A model words answers its own way: quoted text is only expected of the embedded engine.
            expect = {k: v for k, v in turn.expect.items() if not (generated and k == "contains")}
            problems += check_expectations(reply, expect)
        result.turns.append(TurnResult(turn.sent, reply, problems, found, seconds))
        offered = reply.choices if isinstance(reply, Reply) else []
    return result


def scored_lines(result: DialogueResult) -> list[dict]:
    """Every rehearsed line's feedback in a played dialogue, in order (state.feedback grows by one
    entry a scored line and starts again with a new rehearsal)."""
    lines: list[dict] = []
    known = 0
    for turn in result.turns:
        feedback = turn.reply.state.get("feedback") if turn.reply is not None else None
        if not isinstance(feedback, list):
            continue
        if len(feedback) < known:
            known = 0
        lines += [f for f in feedback[known:] if isinstance(f, dict)]
        known = len(feedback)
    return lines
