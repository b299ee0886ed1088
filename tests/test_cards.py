"""The answer cards (prompts/cards/): each rests on a real passage and stays close to what it says.

The closeness check: a card's answer is compared (MiniLM cosine) with every window of one to three
consecutive sentences of the corpus. The best window of its own section must reach CLOSE, and its own
section must rank among the TOP_SECTIONS sections nearest the card: a card that drifted to another
topic, or says something its passage doesn't, fails one or the other.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from app.config import BUNDLED_CORPUS, CARDS
from ingest.cards import load_cards, place
from ingest.load import load_corpus
from ingest.split import plain, sentences, split_document

CLOSE = 0.5
TOP_SECTIONS = 5
FACETS = {
    "junior", "senior", "situational", "structural", "stay", "transfer", "leave", "transition", "manager",
    "preparation", "script", "follow_up", "etiquette", "learn", "team_lead", "ai_risk", "timeline", "salary",
    "location", "workload", "boundaries", "signs", "research", "gpu", "reproducibility", "metrics", "ethics",
    "displacement", "practice", "human_skills", "tasks"}


@pytest.fixture(scope="module")
def chunks():
    documents, _ = load_corpus([BUNDLED_CORPUS])
    return [c for doc in documents for c in split_document(doc)]


def test_every_card_rests_on_a_passage_that_exists(chunks):
    cards = load_cards(CARDS)
    assert len(cards) >= 100
    for card in cards:
        chunk = place(card, chunks)
        assert chunk is not None, (card.doc_id, card.section)
        assert not card.anchor or plain(card.anchor) in plain(chunk.text), (card.section, card.anchor)
        assert card.facets and set(card.facets) <= FACETS, card.facets
        assert 12 <= len(card.answer.split()) <= 70, card.answer


def test_a_card_states_no_figure_its_passage_lacks(chunks):
    for card in load_cards(CARDS):
        passage = plain(place(card, chunks).text)
        for number in re.findall(r"\d[\d,.]*\d|\d", card.answer):
            assert number in passage, (number, card.answer)


def test_cards_open_differently():
    openings = [" ".join(card.answer.lower().split()[:3]) for card in load_cards(CARDS)]
    repeated = {o for o in openings if openings.count(o) > 1}
    assert not repeated


def test_every_section_with_advice_has_a_card(chunks):
    covered = {(c.doc_id, c.section) for c in load_cards(CARDS)}
    # The forum's opening post is a question and a story, and a heading over one short line introduces the
    # sections below it: nothing to answer from. (The sources answer "where are these figures from?".)
    sections = {(c.doc_id, c.section) for c in chunks
                if not c.section.startswith("Original post") and len(c.text.split()) > 15}
    assert sections - covered == set()


@pytest.fixture(scope="module")
def windows(chunks, bundled_index) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Every window of one to three sentences in the corpus, embedded once, with its (document, section)."""
    texts, owners = [], []
    for chunk in chunks:
        said = sentences(chunk.text)
        for size in (1, 2, 3):
            for i in range(max(1, len(said) - size + 1)):
                texts.append(" ".join(said[i:i + size]))
                owners.append((chunk.doc_id, chunk.section))
    return np.asarray(bundled_index.embedder.embed_documents(texts), dtype=np.float32), owners


def _far(cards, windows, embedder) -> list[tuple[float, int, str]]:
    """The cards that fail the closeness check: (best own-window similarity, own section's rank, answer)."""
    w, owners = windows
    c = np.asarray(embedder.embed_documents([card.answer for card in cards]), dtype=np.float32)
    far = []
    for card, scores in zip(cards, c @ w.T, strict=True):
        best: dict[tuple[str, str], float] = {}
        for owner, score in zip(owners, scores.tolist(), strict=True):
            best[owner] = max(best.get(owner, -1.0), score)
        own = best[(card.doc_id, card.section)]
        rank = sum(score > own for score in best.values()) + 1
        if own < CLOSE or rank > TOP_SECTIONS:
            far.append((round(own, 3), rank, card.answer[:60]))
    return far


def test_each_card_stays_close_to_its_passage(windows, bundled_index):
    assert _far(load_cards(CARDS), windows, bundled_index.embedder) == []


def test_a_card_on_the_wrong_passage_is_caught(windows, bundled_index):
    cards = load_cards(CARDS)
    # Each of these answers put on the passage of a card from another document.
    pairs = [(cards[i], cards[(i + len(cards) // 2) % len(cards)]) for i in range(0, len(cards), 10)]
    moved = [replace(a, doc_id=b.doc_id, section=b.section, anchor=b.anchor) for a, b in pairs if a.doc_id != b.doc_id]
    # Documents overlap (two of them speak of what AI can't automate), so a moved card can land near its
    # new passage by chance; nearly all must be caught.
    assert len(moved) >= 10 and len(_far(moved, windows, bundled_index.embedder)) >= 0.9 * len(moved)
