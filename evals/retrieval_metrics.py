"""Retrieval quality on the labelled question set: hit@1, hit@5 and MRR per retrieval mode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from app.retrieval import MODES, Mode, Passage, Retriever
from ingest.split import plain  # the passage's words without Markdown emphasis

QUESTIONS = Path(__file__).parent / "retrieval" / "questions.yaml"
OFF_TOPIC = Path(__file__).parent / "retrieval" / "offtopic.yaml"


@dataclass(frozen=True)
class Scores:
    mode: str
    questions: int
    hit_at_1: float
    hit_at_5: float
    mrr: float
    misses: tuple[str, ...]  # ids of questions whose passage was not in the top 5


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def answers(passage: Passage, question: dict) -> bool:
    """A passage answers a question when it is from the labelled document and holds the labelled quote."""
    return passage.doc_id == question["doc"] and plain(question["quote"]).lower() in plain(passage.text).lower()


def score(retriever: Retriever, questions: list[dict], *, mode: Mode, k: int = 5) -> Scores:
    hits1 = hits5 = reciprocal = 0.0
    misses = []
    for question in questions:
        passages = retriever.search(question["q"], k=k, mode=mode)
        rank = next((p.rank for p in passages if answers(p, question)), None)
        if rank is None:
            misses.append(question["id"])
            continue
        hits1 += rank == 1
        hits5 += 1
        reciprocal += 1 / rank
    n = len(questions)
    return Scores(mode, n, round(hits1 / n, 3), round(hits5 / n, 3), round(reciprocal / n, 3), tuple(misses))


def score_all(retriever: Retriever, questions: list[dict]) -> list[Scores]:
    return [score(retriever, questions, mode=mode) for mode in MODES]
