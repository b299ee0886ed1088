"""`steady eval`: play the scripted dialogues, score retrieval, check the thresholds, write the report."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from app.reply import Reply
from app.retrieval import Retriever
from app.store import Store
from evals.dialogues import (
    DIALOGUES,
    JOURNEYS,
    MIN_SUPPORT_WORDS,
    SUPPORT_SIMILARITY,
    DialogueResult,
    RecordingRetriever,
    corpus_passages,
    load_suite,
    play,
    scored_lines,
    support_share,
)
from evals.retrieval_metrics import Scores, load_questions, score_all

THRESHOLDS = Path(__file__).parent / "thresholds.yaml"


@dataclass(frozen=True)
class Check:
    figure: str
    value: float | None  # None: not measured in this run (n/a), so not held to a threshold
    bound: str  # "min" or "max"
    limit: float

    @property
    def passed(self) -> bool:
        if self.value is None:
            return True
        return self.value >= self.limit if self.bound == "min" else self.value <= self.limit


def load_thresholds(path: Path = THRESHOLDS) -> dict[str, dict[str, float]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if set(raw) - {"min", "max"}:
        raise ValueError(f"{path.name}: only min: and max: sections are understood")
    return {"min": raw.get("min") or {}, "max": raw.get("max") or {}}


def check_thresholds(figures: dict[str, float | None], thresholds: dict[str, dict[str, float]]) -> list[Check]:
    checks = []
    for bound in ("min", "max"):
        for name, limit in thresholds[bound].items():
            if name not in figures:
                raise ValueError(f"thresholds.yaml names {name!r}, which the eval does not measure "
                                 f"(it measures: {', '.join(figures)})")
            checks.append(Check(name, figures[name], bound, float(limit)))
    return checks


def retrieval_table(scores: list[Scores]) -> str:
    rows = [f"| {s.mode} | {s.questions} | {s.hit_at_1:.3f} | {s.hit_at_5:.3f} | {s.mrr:.3f} |" for s in scores]
    return "\n".join(["| mode | questions | hit@1 | hit@5 | MRR@5 |", "|---|---|---|---|---|", *rows])


def crisis_report() -> dict | None:
    """Crisis recall and false positives on the held-out test splits (evals/crisis/learn/test*.yaml)."""
    from evals.crisis.metrics import report

    return report()


def understanding_report(*, embedder) -> dict:
    """Each learned decision's figures on its held-out test split, and the duration reader's."""
    from datetime import date

    from app import learned, quantities

    found = {name: learned.test_figures(name, embedder=embedder)
             for name in ("intent", "answer", "pressures", "domain", "leans", "facets", "sections", "case_answer")}
    import yaml

    items = yaml.safe_load((learned.EVALS_DIR / "understand" / "durations" / "test.yaml").read_text(encoding="utf-8"))
    right = 0
    for item in items:
        got = quantities.duration(str(item["text"]), today=date(2026, 12, 1))  # the set's reference date
        right += ("none" if got is None else got.bucket) == item["bucket"]
    found["durations"] = {"accuracy": round(right / len(items), 3), "n": len(items)}
    from evals.rehearse_metrics import case_reading, rubric_agreement

    found["rehearse rubric"] = rubric_agreement(embedder=embedder)
    found["rehearse case"] = case_reading(embedder=embedder)
    return found


def ask_report(*, retriever: Retriever, llm=None):
    """Ask on its two held-out test splits (evals/ask/test.yaml and test2.yaml, written apart by two helpers),
    played together through a fresh engine."""
    from app.engine import Engine
    from evals.ask_metrics import play

    return play(Engine(retriever=retriever, llm=llm), "test", "test2")


def _crisis_figures(report: dict | None) -> tuple[float | None, float | None]:
    if report is None:
        return None, None
    return report["crisis"]["recall"], report["false_positives"]["rate"]


def rubric_consistency(engine, recorder, results: list[DialogueResult], *, corpus) -> dict:
    """Replay every dialogue that rehearsed lines; each line must get the same feedback again."""
    lines = identical = 0
    differing = []
    for first in results:
        once = scored_lines(first)
        if not once:
            continue
        again = scored_lines(play(engine, recorder, first.dialogue, corpus=corpus))
        for a, b in zip(once, again + [{}] * (len(once) - len(again)), strict=True):
            lines += 1
            keys = ("line", "scores", "reasons", "better")
            if all(a.get(k) == b.get(k) for k in keys):
                identical += 1
            else:
                differing.append(f"{first.dialogue.id}: {str(a.get('line'))[:60]!r}")
    return {"lines": lines, "identical": identical, "differing": differing}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


class ThroughTheStore:
    """The engine as the web app drives it: every turn of a dialogue loaded from and written to the session
    store (SQLite, or the team's PostgreSQL), under an owner of the run's own that is deleted afterwards."""

    def __init__(self, *, engine, store: Store) -> None:
        from app.sessions import Conversations

        self.conversations = Conversations(engine=engine, store=store)
        self.owner = f"eval:{uuid.uuid4().hex}"

    def new_session(self) -> str:
        return uuid.uuid4().hex

    def welcome(self) -> Reply:
        return self.conversations.engine.welcome()

    def send(self, session_id: str, text: str) -> Reply:
        return self.conversations.send(session_id, text, owner=self.owner)

    def forget(self) -> None:
        self.conversations.forget(owner=self.owner)


def run(*, retriever: Retriever, out: Path, store: Store, suite: Path = DIALOGUES, llm=None) -> tuple[str, bool]:
    """Play the suite through the engine (with llm, if given) and the session store; the report as
    Markdown, and whether every threshold in evals/thresholds.yaml was met."""
    from app.engine import Engine

    started = time.perf_counter()
    thresholds = load_thresholds()  # first: a mistake in the file shows before the suite runs
    corpus = corpus_passages(retriever.index)
    dialogues = load_suite(suite, doc_ids={doc_id for doc_id, _ in corpus.values()})
    recorder = RecordingRetriever(retriever)
    engine = ThroughTheStore(engine=Engine(retriever=recorder, llm=llm), store=store)
    try:
        results = [play(engine, recorder, d, corpus=corpus) for d in dialogues]
        rubric = rubric_consistency(engine, recorder, results, corpus=corpus)
    finally:
        engine.forget()
    scores = score_all(retriever, load_questions())
    hybrid = next(s for s in scores if s.mode == "hybrid")
    audits = [t.audit for r in results for t in r.turns]
    answers = [t.reply for r in results for t in r.turns if t.reply is not None and t.reply.state.get("grounded")]
    generated = [reply for reply in answers if reply.state.get("generated")]
    support = [support_share(reply, embedder=retriever.index.embedder) for reply in generated]
    # With a model, a grounded answer it did not write is the embedded fall-back (the notice says why).
    voices = [t.reply.state["voice"] for r in results for t in r.turns
              if t.reply is not None and "generated" in (t.reply.state.get("voice") or {})]
    model = None if llm is None else {
        "answers": len(answers), "generated": len(generated), "manager_lines": len(voices),
        "manager_in_character": sum(v["generated"] for v in voices),
        "manager_fallbacks": dict(Counter(v["refused"] for v in voices if not v["generated"]))}
    crisis = crisis_report()
    understanding = understanding_report(embedder=retriever.index.embedder)
    asked = ask_report(retriever=retriever, llm=llm)
    journeys = {}
    for journey in JOURNEYS:
        played = [r for r in results if r.dialogue.journey == journey]
        if played:
            journeys[journey] = {"dialogues": len(played), "passed": sum(r.passed for r in played)}
    crisis_recall, crisis_false_positives = _crisis_figures(crisis)
    figures = {
        "dialogues": len(results),
        "dialogue_pass_rate": min(j["passed"] / j["dialogues"] for j in journeys.values()),
        "retrieval_hit_at_5": hybrid.hit_at_5,
        "retrieval_mrr": hybrid.mrr,
        "retrieval_mrr_gain": round(hybrid.mrr - max(s.mrr for s in scores if s.mode != "hybrid"), 3),
        "citation_validity": _share(sum(a.valid_citations for a in audits), sum(a.citations for a in audits)),
        "groundedness_embedded": _share(sum(a.verbatim_sentences for a in audits), sum(a.quoted_sentences for a in audits)),
        "groundedness_model": _share(sum(s for s, _ in support), sum(n for _, n in support)),
        "crisis_recall": crisis_recall,
        "crisis_false_positive_rate": crisis_false_positives,
        "intent_accuracy": understanding["intent"]["accuracy"],
        "yes_no_unsure_accuracy": understanding["answer"]["accuracy"],
        "pressures_top3_recall": understanding["pressures"]["top3_recall"],
        "domain_f1": understanding["domain"]["macro_f1"],
        "durations_accuracy": understanding["durations"]["accuracy"],
        "rubric_agreement": understanding["rehearse rubric"]["mean"],
        "case_reading_accuracy": understanding["rehearse case"]["accuracy"],
        "ask_in_scope_right": asked.share("direct", "new_topic"),
        "ask_follow_up_right": asked.share("follow_up"),
        "ask_declined_out_of_scope": asked.share("off_topic", "near_domain"),
        "ask_quoted_questions": asked.quoted_questions,
        "rubric_consistency": _share(rubric["identical"], rubric["lines"]),
    }
    checks = check_thresholds(figures, thresholds)
    passed = all(c.passed for c in checks)
    report = _markdown(
        engine=llm.spec if llm is not None else "embedded (no model)", suite=suite, results=results,
        journeys=journeys, scores=scores, audits=audits, support=support, model=model, crisis=crisis, rubric=rubric,
        understanding=understanding, asked=asked, checks=checks, seconds=time.perf_counter() - started,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report + "\n", encoding="utf-8")
    payload = {
        "engine": llm.spec if llm is not None else "embedded", "suite": str(suite), "store": store.where, "passed": passed,
        "figures": figures, "checks": [asdict(c) | {"passed": c.passed} for c in checks], "journeys": journeys,
        "dialogues": [{"id": r.dialogue.id, "journey": r.dialogue.journey, "passed": r.passed,
                       "failures": r.failures()} for r in results],
        "retrieval": [asdict(s) for s in scores], "model": model, "crisis": crisis, "rubric": rubric,
        "understanding": understanding, "ask": {"line": asked.line(), "misses": asked.misses},
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "report.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return report, passed


def _value(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _markdown(*, engine, suite, results, journeys, scores, audits, support, model, crisis, rubric, understanding,
              asked, checks, seconds) -> str:
    summary = ["| figure | value | threshold | result |", "|---|---|---|---|"]
    for c in checks:
        mark = "n/a" if c.value is None else ("pass" if c.passed else "**MISS**")
        summary.append(f"| {c.figure} | {_value(c.value)} | {'≥' if c.bound == 'min' else '≤'} {c.limit:g} | {mark} |")
    by_journey = ["| journey | dialogues | passed | pass rate |", "|---|---|---|---|"]
    by_journey += [f"| {name} | {j['dialogues']} | {j['passed']} | {j['passed'] / j['dialogues']:.2f} |"
                   for name, j in journeys.items()]
    failures = [f"- `{r.dialogue.id}` ({r.dialogue.journey}): " + "; ".join(r.failures())
                for r in results if not r.passed]
    hybrid = next(s for s in scores if s.mode == "hybrid")
    quoted = sum(a.quoted_sentences for a in audits)
    grounded = [f"Citations: {sum(a.citations for a in audits)} checked, {sum(a.valid_citations for a in audits)} valid "
                "(retrieved during that turn, and the same passage as in the index).",
                f"Embedded answers: {sum(a.verbatim_sentences for a in audits)} of {quoted} quoted sentences are "
                "verbatim in the passage they cite."]
    if model is not None:
        grounded.append(f"The model wrote {model['generated']} of {model['answers']} grounded answers; the rest fell "
                        "back to the embedded engine (no valid citation, an error or a timeout).")
        fallbacks = ", ".join(f"{n} {why}" for why, n in sorted(model["manager_fallbacks"].items())) or "none"
        grounded.append(f"Rehearsal: the model voiced {model['manager_in_character']} of {model['manager_lines']} "
                        f"manager lines in character; the persona bank stood in for the rest ({fallbacks}).")
    if support:
        grounded.append(f"Model answers: {sum(s for s, _ in support)} of {sum(n for _, n in support)} sentences "
                        f"(of {MIN_SUPPORT_WORDS}+ words) have a sentence of a cited passage at cosine similarity ≥ "
                        f"{SUPPORT_SIMILARITY} (all-MiniLM-L6-v2).")
    found, fp = crisis["crisis"], crisis["false_positives"]
    crisis_text = "\n".join([
        f"app/safety.py on the held-out test splits of evals/crisis/learn/ ({crisis['split']}, {crisis['messages']} messages, "
        "never used for tuning):", "",
        f"- crisis recall: {found['caught']} of {found['total']} ({_value(found['recall'])})",
        f"- false positives on ordinary burnout and work messages: {fp['flagged']} of {fp['total']} ({_value(fp['rate'])})",
        f"- health nudge (messages.yaml): {crisis['health']['caught']} of {crisis['health']['total']}, "
        f"on {crisis['health']['flagged_none']} ordinary messages wrongly", "",
        "| crisis kind | caught | of |", "|---|---|---|",
        *[f"| {k} | {v['caught']} | {v['total']} |" for k, v in found["by_kind"].items()], "",
        "| ordinary kind | flagged | of |", "|---|---|---|",
        *[f"| {k} | {v['flagged']} | {v['total']} |" for k, v in fp["by_kind"].items()], "",
        "Per language (each lexicon file's own examples): " + "; ".join(
            f"{lang} {v['crisis'][0]}/{v['crisis'][1]} caught, {v['calm'][0]}/{v['calm'][1]} calm flagged"
            for lang, v in crisis["languages"].items()), "",
        *[f"- missed: {text!r}" for text in found["missed"]],
        *[f"- flagged wrongly: {text!r}" for text in fp["flagged_texts"]],
    ])
    understanding_text = "\n".join([
        "Each decision on its held-out test split (evals/understand/<decision>/test.yaml, written by a helper who saw "
        "only the guidance and the labels; never used for tuning):", "",
        "| decision | figure | n |", "|---|---|---|",
        *[f"| {name} | " + ", ".join(f"{k} {v}" for k, v in figures.items() if k != "n") + f" | {figures['n']} |"
          for name, figures in understanding.items()],
    ])
    if rubric["lines"]:
        rubric_text = (f"{rubric['identical']} of {rubric['lines']} rehearsed lines got identical feedback when "
                       "their dialogue was played again." + "".join(f"\n- differs: {d}" for d in rubric["differing"]))
    else:
        rubric_text = "No rehearsed lines in the suite yet."
    missed = [c for c in checks if not c.passed]
    result = "PASS" if not missed else "FAIL\n\n" + "\n".join(
        f"- {c.figure} {_value(c.value)} {'<' if c.bound == 'min' else '>'} {c.limit:g}" for c in missed)
    return "\n\n".join([
        "# Steady eval report",
        f"Engine: {engine}. Suite: {suite} ({len(results)} dialogues). {seconds:.1f} s.",
        "## Summary", "\n".join(summary),
        "## Dialogues by journey", "\n".join(by_journey),
        "## Failing dialogues", "\n".join(failures) or "None.",
        "## Retrieval (evals/retrieval/questions.yaml)", retrieval_table(scores),
        "Misses (hybrid, not in top 5): " + (", ".join(hybrid.misses) or "none"),
        "## Citations and groundedness", "\n".join(grounded),
        "## Crisis detection", crisis_text,
        "## Understanding what people type", understanding_text,
        "## Ask on held-out questions", "\n".join([
            "evals/ask/test.yaml, played through the engine in fresh sessions (written by a helper who saw only the "
            "guidance and the labels; never used for tuning): right passage cited first, or declined when out of scope.",
            "", asked.line(), "", *[f"- missed: {m}" for m in asked.misses]]),
        "## Rubric consistency", rubric_text,
        "## Result", result,
    ])
