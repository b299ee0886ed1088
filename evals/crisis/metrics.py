"""Scores the crisis check (app/safety.py) on labelled messages it was not tuned on.

The honest figures come from `learn/test.yaml`, `test2.yaml` and `test3.yaml` (each written by a helper who saw
only the guidance and the labels' meaning; never used to choose anything; no message in them is a near
copy of a training one, evals/near_copies.py). The earlier hand-made rounds in this folder
(messages.yaml, blind*.yaml) now train the classifier (app/learned.py), so their figures say only
that it learned them. Each language's lexicon is scored on the examples in its file.
`python -m evals.crisis.metrics [SPLIT ...]` prints the report for splits of learn/ (the three test splits by default).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from app import safety

FOLDER = Path(__file__).parent
LEARN = FOLDER / "learn"
MESSAGES = FOLDER / "messages.yaml"  # its health labels score the health nudge


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


HELD_OUT = ("test", "test2", "test3")


def report(*, splits: tuple[str, ...] = HELD_OUT) -> dict:
    """Recall per crisis kind and false positives per kind of ordinary message, on learn/<split>.yaml together.

    {"split", "messages", "crisis": {"total", "caught", "recall", "by_kind": {kind: {...}}, "missed": [...]},
     "false_positives": {"total", "flagged", "rate", "by_kind", "flagged_texts"}, "health": {...},
     "languages": {lang: {"crisis": [caught, total], "calm": [flagged, total]}}}
    The texts are the labelled sets' own sentences, never anything a user typed.
    """
    items = [item for split in splits for item in yaml.safe_load((LEARN / f"{split}.yaml").read_text(encoding="utf-8"))]
    crisis_by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    fp_by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed, flagged = [], []
    for item in items:
        result = safety.assess(item["text"], classify=True, earlier=item.get("context") or [])
        counts = (crisis_by_kind if item["label"] == "crisis" else fp_by_kind)[item["kind"]]
        counts[0] += 1
        counts[1] += result.crisis
        if item["label"] == "crisis" and not result.crisis:
            missed.append(item["text"])
        elif item["label"] != "crisis" and result.crisis:
            flagged.append(item["text"])
    health = [(i["text"], i["label"]) for i in yaml.safe_load(MESSAGES.read_text(encoding="utf-8")) if i["label"] != "crisis"]
    health_hits = [safety.assess(t).health for t, _ in health]
    caught = sum(c for _, c in crisis_by_kind.values())
    total = sum(t for t, _ in crisis_by_kind.values())
    fp_total = sum(t for t, _ in fp_by_kind.values())
    fp_flagged = sum(f for _, f in fp_by_kind.values())
    return {
        "split": " + ".join(splits), "messages": len(items),
        "crisis": {"total": total, "caught": caught, "recall": _rate(caught, total),
                   "by_kind": {k: {"total": t, "caught": c, "recall": _rate(c, t)} for k, (t, c) in sorted(crisis_by_kind.items())},
                   "missed": missed},
        "false_positives": {"total": fp_total, "flagged": fp_flagged, "rate": _rate(fp_flagged, fp_total),
                            "by_kind": {k: {"total": t, "flagged": f, "rate": _rate(f, t)} for k, (t, f) in sorted(fp_by_kind.items())},
                            "flagged_texts": flagged},
        "health": {"total": sum(label == "health" for _, label in health),
                   "caught": sum(h for h, (_, label) in zip(health_hits, health, strict=True) if label == "health"),
                   "flagged_none": sum(h for h, (_, label) in zip(health_hits, health, strict=True) if label == "none")},
        "languages": languages(),
    }


def languages() -> dict[str, dict[str, list[int]]]:
    """Each lexicon file's own examples: crisis caught and calm flagged, per language."""
    found = {}
    for path in sorted((safety.LEXICON_DIR).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        crisis = [safety.assess(t, classify=True).crisis for t in data["examples"]["crisis"]]
        calm = [safety.assess(t, classify=True).crisis for t in data["examples"]["calm"]]
        found[data["lang"]] = {"crisis": [sum(crisis), len(crisis)], "calm": [sum(calm), len(calm)]}
    return found


if __name__ == "__main__":
    scores = report(splits=tuple(sys.argv[1:]) or HELD_OUT)
    print(json.dumps(scores, indent=2, ensure_ascii=False))
