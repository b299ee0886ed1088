"""The check-in: a few kind questions, then which pressures weigh on the person and whether it is
situational or structural.

Every message comes as its reading (app/reading.py): the pressures a free answer speaks of, a free
answer's yes / no / unsure and the durations in it come from there, learned from labelled sets.
Quick replies are read exactly. The same answers always give the same result, and a generative
model is never consulted. All wording is in prompts/checkin.yaml.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from app.lines import matches
from app.prompts import texts
from app.reading import Reading
from app.reply import Reply, citation
from app.retrieval import Passage, Retriever
from app.text import normal

MAX_PROBES = 2  # with the open question and the three-part test: about six questions at most
UNCERTAIN = (0.30, 0.85)  # pressures scoring in this band are worth a follow-up question
OPEN_WEIGHT = 0.2  # once a pressure was asked about directly, the person's answer decides
SEARCH_K = 8
ELAPSED = re.compile(r"\b(?:for|since|been|past|last|ago|lately|now|started|began|whole|all)\b")


class Step(StrEnum):
    OPEN = "open"  # the open question: what weighs on you
    PROBE = "probe"  # how often one pressure comes up
    TEST = "test"  # one part of the situational / structural test
    RESULT = "result"


@dataclass
class CheckIn:
    """What the check-in has heard so far. The pressures, verdict and scope a reply shows are derived
    from it (pressures(), _verdict(), _scope()), never stored beside it."""

    step: Step = Step.OPEN
    about: str = ""  # the pressure being probed (PROBE) or the test's part being asked (TEST)
    heard: dict[str, float] = field(default_factory=dict)  # pressures said in the person's own words
    probed: dict[str, float] = field(default_factory=dict)  # pressures asked about directly, and the answer
    queue: list[str] = field(default_factory=list)  # pressures still to ask about
    test: dict[str, str] = field(default_factory=dict)  # the test's answers: follows / duration / scope
    asked_again: list[str] = field(default_factory=list)  # test parts already asked a second time

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CheckIn:
        if "asking" in data:  # stored before the state was typed: "probe:<pressure>", "test:<part>", "open", "done"
            data = {**data, "about": data["asking"].partition(":")[2], "heard": data.get("open", {})}
        return cls(step=Step(data.get("step", Step.OPEN)), about=data.get("about", ""), heard=dict(data.get("heard", {})),
                   probed=dict(data.get("probed", {})), queue=list(data.get("queue", [])),
                   test=dict(data.get("test", {})), asked_again=list(data.get("asked_again", [])))


def _words() -> dict:
    return texts("checkin")


def pressure_ids() -> list[str]:
    return list(_words()["pressures"])


def _has(text: str, cues: list[str]) -> bool:
    return bool(matches(text, cues))


def read_test(text: str) -> dict[str, str]:
    """Answers to the situational/structural test said in passing, anywhere in a message."""
    found = {}
    for key, part in _words()["test"].items():
        for value, cues in part["cues"].items():  # ordered: negated forms are checked first
            if _has(text, cues):
                found[key] = value
                break
    return found


def _test_answer(key: str, reading: Reading) -> str:
    """A free answer to one of the test's questions: yes / no / unsure, or long / short for how long."""
    if key == "duration":
        if reading.duration is not None:
            return reading.duration.bucket
        said = reading.answer("lasted")
        return {"yes": "long", "no": "short"}.get(said, "unsure")
    if key == "follows":
        return reading.answer("follows_you")
    return read_test(reading.text).get(key, "unsure")


def _frequency(text: str) -> float | None:
    words = _words()
    if text in words["frequency_choices"]:
        return float(words["frequency_choices"][text])
    for value, cues in sorted(words["frequency_words"].items(), key=lambda kv: kv[0]):  # "not really" before "really"
        if _has(text, cues):
            return float(value)
    return None


def _is_stop(text: str) -> bool:
    words = _words()
    return text == words["stop_choice"] or text.lower().strip(" .!") in words["stop_words"]


# --- the flow -------------------------------------------------------------------------------------


def start(*, retriever: Retriever, seed: Reading | None = None) -> tuple[CheckIn, Reply]:
    """A fresh check-in. `seed` is the reading of an opening the person already wrote ("I feel burnt out")."""
    memory = CheckIn()
    if seed:
        return memory, _after_free_text(memory, seed, retriever=retriever)
    words = _words()
    return memory, _question(memory, words["open_question"], [*words["starters"]])


def turn(memory: CheckIn, reading: Reading, *, retriever: Retriever) -> Reply:
    words = _words()
    text = reading.text
    if text == words["restart_choice"] or reading.wants("start_over"):
        fresh, reply = start(retriever=retriever)
        memory.__dict__.update(fresh.__dict__)  # the session keeps the same check-in, started afresh
        return reply
    if memory.step is Step.RESULT or _is_stop(text) or reading.wants("show_result", "stop"):
        return _result(memory, retriever)
    if memory.step is Step.OPEN:
        return _after_free_text(memory, reading, retriever=retriever)
    if memory.step is Step.PROBE:
        pid = memory.about
        value = _frequency(text)
        if value is None and not read_test(text):  # answered in words: do they speak of this pressure?
            value = reading.pressures[pid]
        if value is not None:
            memory.probed[pid] = value
        if text not in words["frequency_choices"]:  # words in passing count for the other pressures
            _absorb(memory, reading, skip=pid)
        return _next(memory, retriever)
    key = memory.about
    choices = words["test"][key]["choices"]
    value = (choices[text] or "unsure") if text in choices else _test_answer(key, reading)
    if text not in choices:
        _absorb(memory, reading, skip_test=key)
    if value == "unsure" and key not in memory.asked_again and text not in choices:
        # Not sure: asked once more in other words, then it stays "not clear" rather than guessed.
        memory.asked_again.append(key)
        part = words["test"][key]
        return _question(memory, part["again"], list(part["choices"]))
    memory.test[key] = value
    return _next(memory, retriever)


def _absorb(memory: CheckIn, reading: Reading, *, skip: str | None = None, skip_test: str | None = None) -> None:
    """Anything said in passing counts: pressures it mentions and test answers it contains."""
    if reading.text in _choice_texts():  # a quick reply pressed at another moment says nothing more
        return
    for pid, score in reading.pressures.items():
        if pid != skip:
            memory.heard[pid] = max(memory.heard.get(pid, 0.0), score)
    passing = read_test(reading.text)
    # A duration in passing counts only when it says how long this has gone on ("for a year", "since
    # march"), not when it looks ahead ("AI will do my job in two years").
    if reading.duration is not None and ELAPSED.search(reading.normal):
        passing["duration"] = reading.duration.bucket
    for key, value in passing.items():
        if key != skip_test and memory.test.get(key, "unsure") == "unsure":
            memory.test[key] = value


def _choice_texts() -> set[str]:
    words = _words()
    return {*words["frequency_choices"], *(c for part in words["test"].values() for c in part["choices"]),
            words["stop_choice"], *words["next_choices"]}


def _after_free_text(memory: CheckIn, reading: Reading, *, retriever: Retriever) -> Reply:
    words = _words()
    _absorb(memory, reading)
    ranked = sorted(memory.heard.items(), key=lambda kv: kv[1], reverse=True)
    uncertain = [pid for pid, s in ranked[:4] if UNCERTAIN[0] <= s < UNCERTAIN[1]]
    if not ranked or ranked[0][1] < UNCERTAIN[0]:  # nothing clear yet: ask about the commonest ones
        memory.queue = ["workload", "keeping_up"]
        lead = words["heard_prefix"] if memory.test else words["vague"]
    else:
        memory.queue = uncertain[:MAX_PROBES]
        clear = ranked[0][1] >= words["heard_clear"]
        lead = " ".join([words["heard_prefix"], *([words["pressures"][ranked[0][0]]["heard"]] if clear else [])])
    return _next(memory, retriever, lead=lead)


def _next(memory: CheckIn, retriever: Retriever, *, lead: str = "") -> Reply:
    words = _words()
    while memory.queue:
        pid = memory.queue.pop(0)
        if pid in memory.probed:
            continue
        memory.step, memory.about = Step.PROBE, pid
        question = f"{words['probe_intro']} {words['pressures'][pid]['probe']}"
        return _question(memory, _join(lead, question), list(words["frequency_choices"]))
    for key, part in words["test"].items():
        if key not in memory.test and not (key == "scope" and _verdict(memory) == "situational"):
            memory.step, memory.about = Step.TEST, key
            return _question(memory, _join(lead, part["question"]), list(part["choices"]))
    return _result(memory, retriever, lead=lead)


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def _question(memory: CheckIn, text: str, choices: list[str]) -> Reply:
    return Reply(mode="checkin", text=text, choices=[*choices, _words()["stop_choice"]], state=_state(memory))


# --- scoring and the result --------------------------------------------------------------------------


def pressures(memory: CheckIn) -> dict[str, float]:
    scores = {}
    for pid in pressure_ids():
        said = memory.heard.get(pid, 0.0)
        asked = memory.probed.get(pid)
        scores[pid] = round(said if asked is None else OPEN_WEIGHT * said + (1 - OPEN_WEIGHT) * asked, 3)
    return scores


def _verdict(memory: CheckIn) -> str | None:
    """The guidance's test: would it follow you to another team; does it outlast a quarter or two.
    When the two disagree, the follow-you question decides: the guidance calls it the reliable test."""
    follows, duration = memory.test.get("follows"), memory.test.get("duration")
    if follows in ("yes", "no"):
        return "structural" if follows == "yes" else "situational"
    if duration in ("long", "short"):
        return "structural" if duration == "long" else "situational"
    return None


def _explain(memory: CheckIn, verdict: str | None) -> str:
    words = _words()
    reasons = [words["reasons"][key][value] for key, value in memory.test.items()
               if value in words["reasons"].get(key, {})]
    lasting = verdict == "situational" and memory.test.get("duration") == "long"  # "eases within a quarter" would contradict it
    return words["verdicts"]["situational_lasting" if lasting else verdict or "unknown"].strip().format(
        reasons=" and ".join(reasons))


def _scope(memory: CheckIn, top: list[str]) -> str | None:
    if _verdict(memory) != "structural":
        return None
    said = memory.test.get("scope")
    if said in ("role", "company"):
        return said
    if top:
        return "company" if top[0] in _words()["company_pressures"] else "role"
    return None


def top_of(memory: CheckIn) -> list[str]:
    """The pressures a check-in found so far (used to seed a rehearsal's case)."""
    return _top(memory)


def _top(memory: CheckIn) -> list[str]:
    """The pressures to name: confirmed by a direct answer, or said clearly enough not to need one."""
    words = _words()
    ranked = sorted(pressures(memory).items(), key=lambda kv: kv[1], reverse=True)
    needed = {pid: words["top_threshold"] if pid in memory.probed else words["top_unasked"] for pid, _ in ranked}
    return [pid for pid, s in ranked if s >= needed[pid]][: words["max_top"]]


def _state(memory: CheckIn) -> dict:
    top = _top(memory)
    return {"flow": "checkin", "step": memory.step.value, "pressures": pressures(memory), "verdict": _verdict(memory),
            "scope": _scope(memory, top), "done": memory.step is Step.RESULT}


def choose_levers(top: list[str], verdict: str | None) -> list[str]:
    """Two or three levers that fit these pressures: the top pressure's first (its first two when it
    stands alone), the runner-up's first, then one for the verdict. Levers that only make sense for
    the other verdict are left out."""
    words = _words()
    wrong = {lever for lever, only in words["verdict_only"].items() if verdict and only != verdict}
    lists = [[lever for lever in words["pressures"][pid]["levers"] if lever not in wrong] for pid in top]
    picked: list[str] = []

    def add(lever: str) -> None:
        if lever not in picked and len(picked) < 3:
            picked.append(lever)

    for levers in lists[:2]:
        for lever in levers[: 2 if len(lists) == 1 else 1]:
            add(lever)
    for lever in words["verdict_levers"].get(verdict or "", [])[: 3 - len(picked) if top else 2]:
        add(lever)
    for levers in lists:
        for lever in levers:
            add(lever)
    return picked


def _cite(retriever: Retriever, *, search: str, quotes: list[str]) -> Passage | None:
    """The retrieved passage that holds one of the quotes (else the best retrieved passage)."""
    found = retriever.search(search, k=SEARCH_K)
    wanted = [normal(q) for q in quotes]
    for passage in found:
        if any(q in normal(passage.text) for q in wanted):
            return passage
    return found[0] if found else None


def _result(memory: CheckIn, retriever: Retriever, *, lead: str = "") -> Reply:
    words = _words()
    memory.step, memory.about = Step.RESULT, ""
    top = _top(memory)
    verdict = _verdict(memory)
    state = _state(memory)
    cited: dict[str, int] = {}
    citations: list[dict] = []

    def number(passage: Passage | None) -> int | None:
        if passage is None:
            return None
        if passage.chunk_id not in cited:
            cited[passage.chunk_id] = len(citations) + 1
            citations.append(citation(len(citations) + 1, passage))
        return cited[passage.chunk_id]

    def mark(n: int | None) -> str:
        return f" [{n}]" if n else ""

    if not top and verdict is None:
        state.update(top=[], levers=[])
        return Reply(mode="checkin", text=_join(lead, words["result_none"]), choices=list(words["next_choices"]),
                     state=state)
    lines = [words["result_title"]]
    if top:
        lines += ["", words["result_pressures"]]
    for pid in top:
        p = words["pressures"][pid]
        lines.append(f"- **{p['label']}**: {p['about']}{mark(number(_cite(retriever, search=p['search'], quotes=p['quotes'])))}")
    lines += ["", words["result_verdict"], _explain(memory, verdict)]
    scope = state["scope"]
    if scope:
        lines.append(words["scopes"][scope])
    lines += ["", words["result_levers"]]
    levers = []
    for i, lid in enumerate(choose_levers(top, verdict), start=1):
        lever = words["levers"][lid]
        n = number(_cite(retriever, search=lever["search"], quotes=[lever["quote"]]))
        lines.append(f"{i}. **{lever['title']}.** {lever['text']}{mark(n)}")
        levers.append({"id": lid, "title": lever["title"], "text": lever["text"], "n": n})
    lines += ["", words["result_next"]]
    state.update(top=top, levers=levers)
    return Reply(mode="checkin", text=_join(lead, "\n".join(lines)), citations=citations,
                 choices=list(words["next_choices"]), state=state)


def warm_up(retriever: Retriever) -> None:
    """Load the decisions and run the citation searches once, so a person's first check-in isn't the slow one."""
    from app import learned

    words = _words()
    for name in ("pressures", "answer", "intent", "domain"):
        learned.model(name)
    for item in [*words["pressures"].values(), *words["levers"].values()]:
        retriever.search(item["search"], k=SEARCH_K)
