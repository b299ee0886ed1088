"""Retrieval finds the passage that answers a tired person's question, in their own words."""

from __future__ import annotations

from evals.retrieval_metrics import answers, load_questions, score_all

QUESTIONS = load_questions()


def test_labelled_set_is_large_and_well_formed():
    assert len(QUESTIONS) >= 60
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)


def test_a_sample_of_questions_finds_its_passage(retriever):
    # Every tenth question; the whole set's hit@5 is held to 0.95 below, so one miss in the sample is allowed.
    missed = [q["id"] for q in QUESTIONS[::10] if not any(answers(p, q) for p in retriever.search(q["q"], k=5))]
    assert len(missed) <= 1, missed


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
