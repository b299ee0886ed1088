"""Retrieval finds the passage that answers a tired person's question, in their own words."""

from __future__ import annotations

import pytest

from evals.retrieval_metrics import answers, load_questions, score_all

QUESTIONS = load_questions()


def test_labelled_set_is_large_and_well_formed():
    assert len(QUESTIONS) >= 60
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("question", QUESTIONS[::10], ids=lambda q: q["id"])
def test_a_sample_of_questions_finds_its_passage(retriever, question):
    assert any(answers(p, question) for p in retriever.search(question["q"], k=5))


def test_hybrid_meets_the_bar_and_beats_each_method_alone(retriever):
    scores = {s.mode: s for s in score_all(retriever, QUESTIONS)}
    hybrid = scores["hybrid"]
    assert hybrid.hit_at_5 >= 0.95, hybrid
    assert hybrid.mrr >= 0.85, hybrid
    assert hybrid.mrr > scores["dense"].mrr and hybrid.mrr > scores["bm25"].mrr, scores


def test_follow_the_users_words_not_the_documents(retriever):
    """Paraphrases with no shared keywords still land on the right pressure."""
    top = retriever.search("every experiment costs a fortune and I hesitate to press enter", k=1)[0]
    assert top.section.endswith("GPU Guilt")
