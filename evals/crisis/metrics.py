"""Scores app/safety.py on the labelled messages in this folder; also chooses the embedding thresholds.

`python -m evals.crisis.metrics [--sweep] [SET ...]` prints the report for each set (messages, blind,
blind5 to blind8; all by default), with and without the embedder, and, with --sweep, the
embedding-only figures per threshold on the tuning split of the sets tuned on (messages and blind).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from app import safety

MESSAGES = Path(__file__).parent / "messages.yaml"
# The labelled sets, in the order they were written (README.md tells how each was measured).
SETS = {name: Path(__file__).parent / f"{name}.yaml" for name in ("messages", "blind", "blind5", "blind6", "blind7", "blind8")}
TUNED_ON = ("messages", "blind")  # the thresholds were chosen on these, never on the later rounds
LABELS = ("crisis", "health", "none")
KINDS = ("explicit", "indirect", "threat_to_others", "negated", "idiom", "ml_jargon", "health", "ordinary", "other_language")
FALSE_POSITIVE_KINDS = ("idiom", "ml_jargon", "ordinary", "negated")


def load(path: Path = MESSAGES) -> list[dict]:
    """The labelled messages, checked: a typo in a label would silently skew every figure."""
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    for number, item in enumerate(items, 1):
        if item.get("label") not in LABELS or item.get("kind") not in KINDS or not str(item.get("text", "")).strip():
            raise ValueError(f"{path.name} entry {number}: needs text, label in {LABELS} and kind in {KINDS}")
    return items


def held_out(items: list[dict]) -> list[bool]:
    """Every third message of each kind (the 3rd, 6th, ...) is held out from threshold tuning."""
    seen: dict[str, int] = defaultdict(int)
    flags = []
    for item in items:
        seen[item["kind"]] += 1
        flags.append(seen[item["kind"]] % 3 == 0)
    return flags


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def report(*, embedder=None, path: Path = MESSAGES, split: str = "all") -> dict:
    """Run every labelled message through `safety.assess` and score it.

    split: "all", "tune" (the two thirds used to choose safety.THRESHOLD) or "held_out" (the rest).
    Returns:
        {
          "split": str, "messages": int, "embedder": bool, "threshold": float,
          "crisis": {"total": int, "caught": int, "recall": float|None,
                     "by_kind": {kind: {"total", "caught", "recall"}},   # crisis-labelled messages per kind
                     "missed": [text, ...]},
          "false_positives": {"total": int, "flagged": int, "rate": float|None,   # over idiom, ml_jargon, ordinary, negated
                              "by_kind": {kind: {"total", "flagged", "rate"}},   # every kind's non-crisis messages
                              "flagged_texts": [text, ...]},
          "health": {"total": int, "caught": int, "recall": float|None, "missed": [text, ...],
                     "flagged_none": int},   # "none" messages that got the health nudge
        }
    The texts are the labelled set's own sentences, never anything a user typed.
    """
    items = load(path)
    if split != "all":
        keep = held_out(items)
        items = [item for item, out in zip(items, keep) if out == (split == "held_out")]
    crisis_by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    fp_by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed, flagged, health_missed = [], [], []
    health_total = health_caught = health_on_none = 0
    for item in items:
        result = safety.assess(item["text"], embedder=embedder)
        if item["label"] == "crisis":
            counts = crisis_by_kind[item["kind"]]
            counts[0] += 1
            counts[1] += result.crisis
            if not result.crisis:
                missed.append(item["text"])
        else:
            counts = fp_by_kind[item["kind"]]
            counts[0] += 1
            counts[1] += result.crisis
            if result.crisis:
                flagged.append(item["text"])
        if item["label"] == "health":
            health_total += 1
            health_caught += result.health and not result.crisis
            if not result.health:
                health_missed.append(item["text"])
        elif item["label"] == "none":
            health_on_none += result.health
    crisis_total = sum(c[0] for c in crisis_by_kind.values())
    crisis_caught = sum(c[1] for c in crisis_by_kind.values())
    fp_total = sum(fp_by_kind[k][0] for k in FALSE_POSITIVE_KINDS if k in fp_by_kind)
    fp_flagged = sum(fp_by_kind[k][1] for k in FALSE_POSITIVE_KINDS if k in fp_by_kind)
    return {
        "split": split, "messages": len(items), "embedder": embedder is not None, "threshold": safety.THRESHOLD,
        "crisis": {
            "total": crisis_total, "caught": crisis_caught, "recall": _rate(crisis_caught, crisis_total),
            "by_kind": {k: {"total": t, "caught": c, "recall": _rate(c, t)} for k, (t, c) in sorted(crisis_by_kind.items())},
            "missed": missed,
        },
        "false_positives": {
            "total": fp_total, "flagged": fp_flagged, "rate": _rate(fp_flagged, fp_total),
            "by_kind": {k: {"total": t, "flagged": f, "rate": _rate(f, t)} for k, (t, f) in sorted(fp_by_kind.items())},
            "flagged_texts": flagged,
        },
        "health": {"total": health_total, "caught": health_caught, "recall": _rate(health_caught, health_total),
                   "missed": health_missed, "flagged_none": health_on_none},
    }


def sweep(*, embedder, paths: tuple[Path, ...] = tuple(SETS[name] for name in TUNED_ON)) -> list[dict]:
    """Embedding-only figures per threshold: how the embedding alone separates the labelled sets.

    Every message's neutralised text is compared with the exemplar banks (patterns are ignored, so the
    embedding is judged on every message, not only on what the patterns miss). Rows with rule "whole"
    vary safety.THRESHOLD alone; rows with rule "clause" keep it and vary safety.CLAUSE_THRESHOLD.
    """
    scored = []
    for path in paths:
        items = load(path)
        for item, is_out in zip(items, held_out(items)):
            seen = safety.embedding_text(safety.neutralised(item["text"])[0])
            enough = len(seen.split()) >= 3
            whole = safety.similarity(seen, embedder=embedder) if enough else (0.0, 1.0)
            parts = safety.clause_similarity(safety.clauses(seen), embedder=embedder) if enough else []
            scored.append((item["label"] == "crisis", item["kind"] != "other_language", whole, parts, is_out))

    def figures(hit) -> dict:
        row = {}
        for name, want_out in (("tune", False), ("held_out", True)):
            part = [(c, en, hit(w, p)) for c, en, w, p, o in scored if o == want_out]
            positives = [h for c, _, h in part if c]
            english = [h for c, en, h in part if c and en]  # the model is English-only
            negatives = [h for c, _, h in part if not c]
            row[name] = {"recall": sum(positives) / len(positives), "english_recall": sum(english) / len(english),
                         "false_positives": sum(negatives), "negatives": len(negatives)}
        return row

    def close(score: tuple[float, float], threshold: float) -> bool:
        return score[0] >= threshold and score[0] > score[1]

    rows = []
    for step in range(40, 81):
        threshold = step / 100
        rows.append({"rule": "whole", "threshold": threshold, **figures(lambda w, p, t=threshold: close(w, t))})
    for step in range(40, 81):
        threshold = step / 100
        rows.append({"rule": "clause", "threshold": threshold, **figures(
            lambda w, p, t=threshold: close(w, safety.THRESHOLD)
            or any(close((c[0], max(c[1], w[1]) + safety.CLAUSE_MARGIN), t) for c in p))})
    return rows


def main(argv: list[str]) -> None:
    from app.config import data_dir
    from ingest.embed import Embedder

    embedder = Embedder(models_dir=data_dir() / "models")
    if "--sweep" in argv:
        for row in sweep(embedder=embedder):
            print(json.dumps(row))
        return
    names = [name for name in argv if not name.startswith("-")] or list(SETS)
    for name in names:
        for split in ("all", "tune", "held_out"):
            for with_embedder in (None, embedder):
                print(json.dumps({"set": name, **report(embedder=with_embedder, path=SETS[name], split=split)}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
