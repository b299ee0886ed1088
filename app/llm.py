"""An optional language model (STEADY_LLM) that writes Ask answers from the retrieved passages, and
voices the manager in a rehearsal.

`none` (default) means no model: the embedded engine answers. `openai:<model>` talks to any
OpenAI-compatible endpoint at OPENAI_BASE_URL (vLLM, llama.cpp server, LM Studio, Ollama, a hosted
API); `ollama:<model>` to Ollama at OLLAMA_HOST. Every generated answer is checked: citation numbers
that match no retrieved passage are removed. Any failure falls back to the embedded answer. The manager's line is voiced in character; how the
line was heard (and so what the manager may concede) is still decided by the engine, and a line that
breaks character, concedes too early or leaks the prompt is replaced by the persona bank's.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable
from collections.abc import Generator as Gen

from app import ask
from app.prompts import template, texts
from app.reply import Reply, citation

log = logging.getLogger("steady.llm")
DEFAULT_TIMEOUT = 30.0
HISTORY_TURNS = 4  # earlier turns the model sees, for follow-ups
PROMPT_PASSAGES = 3
_CITATION = re.compile(r"\[(\d+)\]")
# A per-process secret in the system prompt: if it ever shows up in an answer, the model is repeating
# its instructions, and the answer is replaced before it is shown (streaming holds back enough text).
CANARY = f"steady-{secrets.token_hex(6)}"
LEAK_WINDOW = 8  # this many consecutive words of the instructions in an answer count as a leak
MANAGER_SENTENCES = 3
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def out_of_character(line: str, *, heard: str, system: str) -> str | None:
    """Why a generated manager line can't be shown (None when it can): it leaks the prompt, steps out of
    the scene, or agrees to more than the engine heard ("proposal" is the only reaction that may concede)."""
    words = texts("rehearse")["voice"]
    lowered = line.lower()
    if leaks_instructions(line, system=system):
        return "started repeating its instructions"
    if any(phrase in lowered for phrase in words["out_of_character"]):
        return "stepped out of character"
    if heard != "proposal" and any(phrase in lowered for phrase in words["concessions"]):
        return "had the manager agree too early"
    return None


def leaks_instructions(text: str, *, system: str) -> bool:
    """True when an answer repeats the canary or a run of the system prompt's own rule words."""
    if CANARY in text:
        return True
    rules = system.split("Passages:")[0].lower().split()
    said = " ".join(text.lower().split())
    return any(" ".join(rules[i:i + LEAK_WINDOW]) in said for i in range(len(rules) - LEAK_WINDOW + 1))


class ModelSpecError(ValueError):
    pass


def parse_spec(spec: str) -> tuple[str, str] | None:
    """'openai:qwen2.5' -> ('openai', 'qwen2.5'); 'none' or '' -> None."""
    spec = (spec or "none").strip()
    if spec.lower() == "none":
        return None
    provider, _, model = spec.partition(":")
    if provider not in ("openai", "ollama") or not model:
        raise ModelSpecError(f"STEADY_LLM={spec!r} is not understood: use none, openai:<model> or ollama:<model>.")
    return provider, model


def check_citations(text: str, *, passages: int) -> tuple[str, list[int], list[int]]:
    """Remove citation numbers that match no passage; return the text, the valid and the removed."""
    valid, removed = [], []
    def keep(match: re.Match) -> str:
        n = int(match.group(1))
        if 1 <= n <= passages:
            valid.append(n) if n not in valid else None
            return match.group(0)
        removed.append(n)
        return ""
    cleaned = _CITATION.sub(keep, text)
    return re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip(), valid, removed


def _chat(provider: str, model: str, *, timeout: float, temperature: float, max_tokens: int):
    """The LangChain chat model for a provider, chosen by init_chat_model; only the settings each
    provider spells its own way are given here."""
    from langchain.chat_models import init_chat_model

    if provider == "openai":
        own = {"base_url": os.environ.get("OPENAI_BASE_URL"), "timeout": timeout, "max_retries": 0,
               "api_key": os.environ.get("OPENAI_API_KEY") or "not-needed", "max_tokens": max_tokens}
    else:
        own = {"base_url": os.environ.get("OLLAMA_HOST"), "num_predict": max_tokens, "client_kwargs": {"timeout": timeout}}
    return init_chat_model(model, model_provider=provider, temperature=temperature, **own)


class Generator:
    """Wraps a LangChain chat model; created from a spec such as STEADY_LLM's by `from_spec`."""

    def __init__(self, *, provider: str, model: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.spec = f"{provider}:{model}"
        self.chat = _chat(provider, model, timeout=timeout, temperature=0.2, max_tokens=400)
        # The manager decodes greedily: the same line heard the same way gets the same answer, as the
        # persona banks guarantee without a model, so a rehearsal replays identically.
        self.voice_chat = _chat(provider, model, timeout=timeout, temperature=0.0, max_tokens=120)

    @classmethod
    def from_spec(cls, spec: str, *, timeout: float = DEFAULT_TIMEOUT) -> Generator | None:
        """The model a spec names (as STEADY_LLM: none, openai:<model>, ollama:<model>), or None for none."""
        parsed = parse_spec(spec)
        if parsed is None:
            return None
        return cls(provider=parsed[0], model=parsed[1], timeout=timeout)

    def manager(self, *, persona: str, beat: str, heard: str, case: dict, transcript: list[dict],
                example: str) -> Gen[str, None, tuple[str | None, str]]:
        """Stream the manager's next line in character; return (the line, "") or (None, why it was refused)."""
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        words = texts("rehearse")
        voice = words["voice"]
        known = "; ".join(f"{spec['label'].lower()}: {case[item]}" for item, spec in words["case"].items() if case.get(item))
        system = template("manager_system").format(
            persona=voice["personas"][persona], beat=voice["beats"][beat],
            case=known or "nothing specific yet", reaction=voice["reactions"][heard], example=example, canary=CANARY)
        rules = system[system.index("Rules:"):]  # saying the case or the example line back is no leak
        messages = [SystemMessage(system)]
        for entry in transcript[-8:]:  # the conversation so far, the engineer's last line included
            messages.append(HumanMessage(entry["text"]) if entry["who"] == "you" else AIMessage(entry["text"]))
        hold = max(len(CANARY), *(len(p) for p in voice["out_of_character"] + voice["concessions"]))
        written, shown = "", 0
        try:
            for chunk in self.voice_chat.stream(messages):
                if not (isinstance(chunk.content, str) and chunk.content):
                    continue
                written += chunk.content
                refused = out_of_character(written, heard=heard, system=rules)
                if refused:
                    return None, refused
                ends = list(_SENTENCE_END.finditer(written))
                if len(ends) >= MANAGER_SENTENCES:  # one to three sentences, then the manager stops
                    written = written[: ends[MANAGER_SENTENCES - 1].end()]
                    break
                safe = max(shown, len(written) - hold)  # never show the start of a phrase that will be refused
                if safe > shown:
                    yield written[shown:safe]
                    shown = safe
        except Exception as exc:  # noqa: BLE001 - any model failure: refused, stalled, garbage
            return None, f"did not answer ({exc.__class__.__name__})"
        line = " ".join(written.split())
        refused = out_of_character(line, heard=heard, system=rules) or ("said nothing" if not line else None)
        if refused:
            return None, refused
        if written[shown:]:
            yield written[shown:]
        return line, ""

    def condense(self, question: str, *, previous: str) -> str | None:
        """The condense pattern: the model rewrites a follow-up as a standalone question (or None)."""
        from langchain_core.messages import HumanMessage

        try:
            out = self.chat.invoke([HumanMessage(template("condense").format(previous=previous, question=question))])
        except Exception as exc:  # noqa: BLE001 - the embedded condense takes over
            log.warning("model %s could not condense (%s)", self.spec, exc.__class__.__name__)
            return None
        line = str(out.content).strip().splitlines()[0].strip() if str(out.content).strip() else ""
        return line if 3 <= len(line) <= 300 else None

    def _fallback(self, fallback: Callable[[], Reply], reason: str) -> Reply:
        log.warning("model %s failed (%s); answering with the embedded engine", self.spec, reason)
        reply = fallback()
        reply.notice = f"The model ({self.spec}) {reason}, so this answer comes straight from the guidance."
        return reply

    def answer(
        self, grounding: ask.Grounding, *, history: list[dict], fallback: Callable[[], Reply]
    ) -> Gen[str, None, Reply]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        lead = [p for p in grounding.passages if grounding.card and p.chunk_id == grounding.card.chunk_id]
        # The card's passage first; the prompt stays short enough for small local models.
        passages = [*lead, *(p for p in grounding.passages if p not in lead)][:PROMPT_PASSAGES]
        numbered = "\n\n".join(f"[{i}] {p.title} — {p.section}\n{p.text}" for i, p in enumerate(passages, 1))
        earlier = [t for t in history[:-1] if t.get("mode") == "ask"][-HISTORY_TURNS:]
        note = grounding.card.answer if grounding.card else "(none)"
        system = template("ask_system").format(passages=numbered, note=note, canary=CANARY)
        messages = [SystemMessage(system)]
        messages += [HumanMessage(t["text"]) if t["role"] == "user" else AIMessage(t["text"]) for t in earlier]
        messages.append(HumanMessage(grounding.question))
        written, shown = "", 0
        try:
            for chunk in self.chat.stream(messages):
                if isinstance(chunk.content, str) and chunk.content:
                    written += chunk.content
                    if leaks_instructions(written, system=system):
                        return self._fallback(fallback, "started repeating its instructions")
                    safe = max(shown, len(written) - len(CANARY))  # never show a partial canary
                    if safe > shown:
                        yield written[shown:safe]
                        shown = safe
        except Exception as exc:  # noqa: BLE001 - any model failure: refused, stalled, garbage
            return self._fallback(fallback, f"did not answer ({exc.__class__.__name__})")
        if written[shown:]:
            yield written[shown:]
        text, cited, removed = check_citations(written, passages=len(passages))
        if not cited:
            return self._fallback(fallback, "gave an answer without a valid citation")
        notice = f"Removed citation{'s' if len(removed) > 1 else ''} {', '.join(f'[{n}]' for n in removed)} that matched no passage." if removed else ""
        return Reply(
            mode="ask", text=text, citations=[citation(n, passages[n - 1]) for n in sorted(cited)],
            choices=list(texts("ask")["choices"]), notice=notice,
            state={"grounded": True, "generated": True, "model": self.spec, "query": grounding.standalone,
                   "removed_citations": removed},
        )
