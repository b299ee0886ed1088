"""The check-in: a few kind questions, then which pressures weigh on the person and whether it is
situational or structural.

Free text is scored against every pressure by embedding similarity to the corpus sentences that
describe it (and a few paraphrases in prompts/checkin.yaml). Quick replies and the
situational/structural test are read deterministically, so the result never depends on a model.
All wording is in prompts/checkin.yaml.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from app.lines import matches
from app.prompts import texts
from app.reply import Reply, citation
from app.retrieval import Passage, Retriever
from ingest.split import sentences

# Cosine similarity mapped to a 0-1 pressure score: at or below FLOOR is "no sign", at or above
# CEILING is "clearly this". Chosen on the check-in dialogues in evals/dialogues (see README).
FLOOR = 0.36
CEILING = 0.68
MAX_PROBES = 2  # with the open question and the three-part test: about six questions at most
UNCERTAIN = (0.30, 0.85)  # pressures scoring in this band are worth a follow-up question
OPEN_WEIGHT = 0.2  # once a pressure was asked about directly, the person's answer decides
SEARCH_K = 8


def _words() -> dict:
    return texts("checkin")


def pressure_ids() -> list[str]:
    return list(_words()["pressures"])


@lru_cache(maxsize=4)
def _bank(embedder) -> dict[str, np.ndarray]:  # embedder: ingest.embed.Embedder
    """Each pressure's describing sentences, embedded once per process."""
    bank = {}
    for pid, p in _words()["pressures"].items():
        lines = [*p["quotes"], *p["examples"]]
        bank[pid] = np.asarray(embedder.embed_documents(lines), dtype=np.float32)
    return bank


CLAUSE_BREAK = re.compile(r"[;,:]\s*|\s+(?:and|but|plus|while|because|so)\s+(?=\S+\s+\S+\s+\S+)", re.IGNORECASE)


def _units(text: str) -> list[str]:
    """The whole message, its sentences and their clauses: one clause can carry one pressure."""
    parts = []
    for sentence in sentences(text) or [text]:
        parts.append(sentence)
        parts += [c for c in CLAUSE_BREAK.split(sentence) if c and len(c.split()) >= 3]
    return list(dict.fromkeys(p for p in [text, *parts] if p.strip()))[:12]


def _scale(similarity: float) -> float:
    return float(min(1.0, max(0.0, (similarity - FLOOR) / (CEILING - FLOOR))))


def score_text(embedder, text: str) -> dict[str, float]:
    """How strongly a message speaks of each pressure, 0-1."""
    units = _units(text)
    # One batched pass for the clauses (a dozen single queries cost ~10x more); the whole message
    # goes through the query cache, as the safety check and retrieval embed it too.
    vectors = np.asarray([embedder.embed_query(units[0][:2000]),
                          *(embedder.embed_documents([u[:2000] for u in units[1:]]) if units[1:] else [])],
                         dtype=np.float32)
    return {pid: round(_scale(float((vectors @ bank.T).max())), 3) for pid, bank in _bank(embedder).items()}


def _has(text: str, cues: list[str]) -> bool:
    return bool(matches(text, cues))


def read_test(text: str) -> dict[str, str]:
    """Answers to the situational/structural test found anywhere in a message."""
    found = {}
    for key, part in _words()["test"].items():
        for value, cues in part["cues"].items():  # ordered: negated forms are checked first
            if _has(text, cues):
                found[key] = value
                break
    return found


NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18, "few": 3, "couple of": 2, "several": 4,
           "many": 8}
DURATION = re.compile(r"\b(\d+|" + "|".join(NUMBERS) + r")\s+(week|month|quarter|year)s?\b")
MONTHS = {"week": 0.25, "month": 1, "quarter": 3, "year": 12}


def _duration(text: str) -> str:
    """'about eight months' -> long; 'a few weeks' -> short. The guidance's line is one or two quarters."""
    match = DURATION.search(text.lower())
    if not match:
        return "unsure"
    count, unit = match.groups()
    months = (int(count) if count.isdigit() else NUMBERS[count]) * MONTHS[unit]
    return "long" if months > 6 else "short"


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


def start(*, retriever: Retriever, seed: str | None = None) -> tuple[dict, Reply]:
    """A fresh check-in. `seed` is an opening the person already wrote ("I feel burnt out")."""
    memory = {"step": "open", "open": {}, "probed": {}, "queue": [], "test": {}, "asking": "open"}
    if seed:
        return memory, _after_free_text(memory, seed, retriever=retriever)
    words = _words()
    return memory, _question(memory, words["open_question"], [*words["starters"]])


def turn(memory: dict, text: str, *, retriever: Retriever) -> Reply:
    embedder = retriever.index.embedder
    words = _words()
    if text == words["restart_choice"]:
        memory.clear()
        fresh, reply = start(retriever=retriever)
        memory.update(fresh)
        return reply
    if memory["step"] == "result":
        return _result(memory, retriever)
    if _is_stop(text):
        return _result(memory, retriever)
    asking = memory["asking"]
    if asking == "open":
        return _after_free_text(memory, text, retriever=retriever)
    if asking.startswith("probe:"):
        pid = asking.split(":", 1)[1]
        value = _frequency(text)
        if value is None and not read_test(text):  # answered in words: do they speak of this pressure?
            value = score_text(embedder, text)[pid]
        if value is not None:
            memory["probed"][pid] = value
        if text not in words["frequency_choices"]:  # words in passing count for the other pressures
            _absorb(memory, text, embedder=embedder, skip=pid)
        return _next(memory, retriever)
    key = asking.split(":", 1)[1]
    choices = words["test"][key]["choices"]
    if text in choices:
        memory["test"][key] = choices[text] or "unsure"
    else:
        found = read_test(text)
        if key == "duration" and key not in found:
            found[key] = _duration(text)
        memory["test"][key] = found.get(key, "unsure")
        _absorb(memory, text, embedder=embedder)
    return _next(memory, retriever)


def _absorb(memory: dict, text: str, *, embedder, skip: str | None = None) -> None:
    """Anything said in passing counts: pressures it mentions and test answers it contains."""
    for pid, score in score_text(embedder, text).items():
        if pid != skip:
            memory["open"][pid] = max(memory["open"].get(pid, 0.0), score)
    for key, value in read_test(text).items():
        if memory["test"].get(key, "unsure") == "unsure":
            memory["test"][key] = value


def _after_free_text(memory: dict, text: str, *, retriever: Retriever) -> Reply:
    words = _words()
    _absorb(memory, text, embedder=retriever.index.embedder)
    ranked = sorted(memory["open"].items(), key=lambda kv: kv[1], reverse=True)
    uncertain = [pid for pid, s in ranked[:4] if UNCERTAIN[0] <= s < UNCERTAIN[1]]
    if not ranked or ranked[0][1] < UNCERTAIN[0]:  # nothing clear yet: ask about the commonest ones
        memory["queue"] = ["workload", "keeping_up"]
        lead = words["heard_prefix"] if memory["test"] else words["vague"]
    else:
        memory["queue"] = uncertain[:MAX_PROBES]
        clear = ranked[0][1] >= words["heard_clear"]
        lead = " ".join([words["heard_prefix"], *([words["pressures"][ranked[0][0]]["heard"]] if clear else [])])
    return _next(memory, retriever, lead=lead)


def _next(memory: dict, retriever: Retriever, *, lead: str = "") -> Reply:
    words = _words()
    while memory["queue"]:
        pid = memory["queue"].pop(0)
        if pid in memory["probed"]:
            continue
        memory["step"] = "probe"
        memory["asking"] = f"probe:{pid}"
        question = f"{words['probe_intro']} {words['pressures'][pid]['probe']}"
        return _question(memory, _join(lead, question), list(words["frequency_choices"]))
    for key, part in words["test"].items():
        if key not in memory["test"] and not (key == "scope" and _verdict(memory) == "situational"):
            memory["step"] = "test"
            memory["asking"] = f"test:{key}"
            return _question(memory, _join(lead, part["question"]), list(part["choices"]))
    return _result(memory, retriever, lead=lead)


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def _question(memory: dict, text: str, choices: list[str]) -> Reply:
    return Reply(mode="checkin", text=text, choices=[*choices, _words()["stop_choice"]], state=_state(memory))


# --- scoring and the result --------------------------------------------------------------------------


def pressures(memory: dict) -> dict[str, float]:
    scores = {}
    for pid in pressure_ids():
        said = memory["open"].get(pid, 0.0)
        asked = memory["probed"].get(pid)
        scores[pid] = round(said if asked is None else OPEN_WEIGHT * said + (1 - OPEN_WEIGHT) * asked, 3)
    return scores


def _verdict(memory: dict) -> str | None:
    """The guidance's test: would it follow you to another team; does it outlast a quarter or two.
    When the two disagree, the follow-you question decides: the guidance calls it the reliable test."""
    follows, duration = memory["test"].get("follows"), memory["test"].get("duration")
    if follows in ("yes", "no"):
        return "structural" if follows == "yes" else "situational"
    if duration in ("long", "short"):
        return "structural" if duration == "long" else "situational"
    return None


def _explain(memory: dict, verdict: str | None) -> str:
    words = _words()
    reasons = [words["reasons"][key][value] for key, value in memory["test"].items()
               if value in words["reasons"].get(key, {})]
    return words["verdicts"][verdict or "unknown"].strip().format(reasons=" and ".join(reasons))


def _scope(memory: dict, top: list[str]) -> str | None:
    if _verdict(memory) != "structural":
        return None
    said = memory["test"].get("scope")
    if said in ("role", "company"):
        return said
    if top:
        return "company" if top[0] in _words()["company_pressures"] else "role"
    return None


def top_of(memory: dict) -> list[str]:
    """The pressures a check-in found so far (used to seed a rehearsal's case)."""
    return _top(memory) if memory.get("open") is not None else []


def _top(memory: dict) -> list[str]:
    words = _words()
    ranked = sorted(pressures(memory).items(), key=lambda kv: kv[1], reverse=True)
    return [pid for pid, s in ranked if s >= words["top_threshold"]][: words["max_top"]]


def _state(memory: dict) -> dict:
    top = _top(memory)
    return {"flow": "checkin", "step": memory["step"], "pressures": pressures(memory), "verdict": _verdict(memory),
            "scope": _scope(memory, top), "done": memory["step"] == "result"}


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


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[’‘]", "'", re.sub(r"[“”]", '"', text))).lower()


def _cite(retriever: Retriever, *, search: str, quotes: list[str]) -> Passage | None:
    """The retrieved passage that holds one of the quotes (else the best retrieved passage)."""
    found = retriever.search(search, k=SEARCH_K)
    wanted = [_normal(q) for q in quotes]
    for passage in found:
        if any(q in _normal(passage.text) for q in wanted):
            return passage
    return found[0] if found else None


def _result(memory: dict, retriever: Retriever, *, lead: str = "") -> Reply:
    words = _words()
    memory["step"] = "result"
    memory["asking"] = "done"
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
    """Embed the banks and the citation searches once, so a person's first check-in isn't the slow one."""
    words = _words()
    _bank(retriever.index.embedder)
    _opening_bank(retriever.index.embedder)
    for item in [*words["pressures"].values(), *words["levers"].values()]:
        retriever.search(item["search"], k=SEARCH_K)


def looks_like_opening(embedder, text: str) -> bool:
    """A statement of how the person feels, rather than a question: worth offering the check-in."""
    if "?" in text or len(text.split()) > 60:
        return False
    opening = _words()["opening"]
    bank = _opening_bank(embedder)
    vector = np.asarray(embedder.embed_query(text), dtype=np.float32)
    return float((bank @ vector).max()) >= opening["threshold"]


@lru_cache(maxsize=4)
def _opening_bank(embedder) -> np.ndarray:
    return np.asarray(embedder.embed_documents(_words()["opening"]["examples"]), dtype=np.float32)
