"""Ask on its labelled question sets (evals/ask/): the right passage, follow-ups, scope.

train, train2 and train3 teach the learned decisions; dev is refit into them once C is chosen, so dev2 (which no
decision learns from) is where Ask's own weights and thresholds are chosen; test and test2, written apart by two
helpers who saw only the guidance and the labels' meaning, are never used to choose anything. No training question
is a near copy of a held-out one (evals/near_copies.py).

Each row is played through the engine in a fresh session (its `previous` question first, when it
has one). An in-scope row is right when the answer's cited passage is one the row names; an
off-topic or near-domain row is right when the answer is the honest decline, with no citation.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ASK_SETS = Path(__file__).parent / "ask"
KINDS = ("direct", "follow_up", "new_topic", "off_topic", "near_domain")


@dataclass
class AskFigures:
    split: str
    right: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    openings: list[str] = field(default_factory=list)  # the first sentence of every grounded answer
    quoted_questions: int = 0  # quoted evidence that is a question (should be none)
    misses: list[str] = field(default_factory=list)

    def share(self, *kinds: str) -> float:
        total = sum(self.total[k] for k in kinds)
        return round(sum(self.right[k] for k in kinds) / total, 3) if total else 0.0

    @property
    def distinct_openings(self) -> float:
        return round(len(set(self.openings)) / len(self.openings), 3) if self.openings else 1.0

    def line(self) -> str:
        parts = [f"{k} {self.right[k]}/{self.total[k]}" for k in KINDS if self.total[k]]
        return (f"{self.split}: " + ", ".join(parts) + f"; distinct first sentences {self.distinct_openings:.0%}, "
                f"quoted questions {self.quoted_questions}")


def load(split: str) -> list[dict]:
    return yaml.safe_load((ASK_SETS / f"{split}.yaml").read_text(encoding="utf-8")) or []


def right_passage(reply, expect: dict) -> bool:
    """The answer's first citation is a section the row names, or a subsection of one (a question labelled with
    "What AI can (and can't) do in this role today" is answered by its task-by-task subsections)."""
    return bool(reply.citations) and any(
        c["doc_id"] == expect["doc"] and any(c["section"] == s or c["section"].startswith(f"{s} > ")
                                             for s in expect["sections"]) for c in reply.citations[:1])


def play(engine, *splits: str) -> AskFigures:
    """The figures of the splits' rows together."""
    figures = AskFigures(" + ".join(splits))
    for row in (row for split in splits for row in load(split)):
        session = engine.new_session()
        if row.get("previous"):
            engine.send(session, str(row["previous"]))
        reply = engine.send(session, str(row["q"]))
        kind = row["kind"]
        figures.total[kind] += 1
        ok = not reply.citations if row["expect"] == "out" else right_passage(reply, row["expect"])
        figures.right[kind] += ok
        if not ok:
            figures.misses.append(f"[{kind}] {row['q']}")
        if reply.citations:
            figures.openings.append(re.split(r"(?<=[.!?:;])\s", reply.text.strip(), maxsplit=1)[0])
            figures.quoted_questions += sum(q.rstrip().endswith("?") for q in re.findall(r"“(.+?)” \[\d+\]", reply.text))
    return figures
