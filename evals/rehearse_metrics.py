"""Rehearse on its labelled sets: the rubric's agreement with hand-labelled lines, and the case read from
free words (evals/rehearse/{lines,case}/<split>.yaml).

A case answer is read right when its problem (skip, not an answer, implausible) is the labelled one, or,
for an answer, when every labelled value matches what was read at token F1 >= 0.75 (the labels also fix
typos and expand abbreviations, which the reader doesn't try, so exact matching would say little).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

FOLDER = Path(__file__).parent / "rehearse"
VALUE_F1 = 0.75
# The label keys, as case items: a task is the asked item's own value.
_KEYS = {"person": "delegate_to", "until": "defer_until"}


def _tokens(value: object) -> list[str]:
    # A sentence's closing full stop is no part of its last word ("work." is "work"); "0.5" keeps its point.
    return [t.rstrip(".") for t in re.sub(r"[^\w@%.]+", " ", str(value).lower()).strip().removeprefix("the ").split()
            if t.rstrip(".")]


def _f1(got: object, want: object) -> float:
    a, b = _tokens(got), _tokens(want)
    if not a or not b:
        return float(a == b)
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    return 2 * common / (len(a) + len(b))


def case_reading(*, embedder, splits: tuple[str, ...] = ("test", "test2")) -> dict:
    """The share of case answers read right, over the splits together (test and test2 were written apart, by two
    helpers who saw only the guidance and the labels' meaning)."""
    from app.case import read_answer
    from app.reading import read

    rows = [row for split in splits for row in yaml.safe_load((FOLDER / "case" / f"{split}.yaml").read_text(encoding="utf-8"))]
    right = 0
    for row in rows:
        got = read_answer(row["item"], read(str(row["answer"]), context="case_question", embedder=embedder),
                          case=dict(row.get("context") or {}))
        want = row["expect"]
        if isinstance(want, str):
            right += got.problem == want
        else:
            wanted = {_KEYS.get(k, row["item"]): v for k, v in want.items() if k != "correction"}
            # The case as it stands after the answer: a correction of who takes a task keeps the task.
            after = {**(row.get("context") or {}), **got.values}
            right += got.problem is None and all(_f1(after.get(k, ""), v) >= VALUE_F1 for k, v in wanted.items())
    return {"accuracy": round(right / len(rows), 3), "n": len(rows)}


def rubric_agreement(*, embedder, split: str = "test") -> dict:
    """Per criterion, the share of lines scored exactly as labelled, and the mean over the criteria."""
    from app import rubric
    from app.reading import read

    rows = yaml.safe_load((FOLDER / "lines" / f"{split}.yaml").read_text(encoding="utf-8"))
    agree = dict.fromkeys(rubric.CRITERIA, 0)
    for row in rows:
        got = rubric.scores(read(str(row["text"]), context="roleplay", embedder=embedder))
        for criterion in rubric.CRITERIA:
            agree[criterion] += got[criterion] == row["scores"][criterion]
    figures = {c: round(n / len(rows), 3) for c, n in agree.items()}
    return {**figures, "mean": round(sum(figures.values()) / len(figures), 3), "n": len(rows)}
