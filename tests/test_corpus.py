"""The bundled corpus: front matter, headings, and the guidance's own words."""

from __future__ import annotations

import re

import pytest

from app.config import BUNDLED_CORPUS
from ingest.load import load_corpus, load_file

SEEDS = BUNDLED_CORPUS.parent.parent / "shared" / "seeds"
EXPECTED = {
    "ml-engineer-fatigue", "manager-conversation", "ai-risk-ml-engineer",
    "avoiding-burnout-forum", "should-ml-engineers-quit",
}


def test_every_document_has_front_matter_and_one_title():
    documents, problems = load_corpus([BUNDLED_CORPUS])
    assert problems == []
    assert {doc.doc_id for doc in documents} == EXPECTED
    for doc in documents:
        assert doc.title and doc.kind and doc.source.endswith(".txt")
        assert len(re.findall(r"^# ", doc.text, re.MULTILINE)) == 1, doc.doc_id
        assert re.search(r"^## ", doc.text, re.MULTILINE), f"{doc.doc_id} has no sections"


def test_the_pressures_and_the_script_have_their_own_headings():
    fatigue = load_file(BUNDLED_CORPUS / "ml-engineer-fatigue.md").text
    for pressure in ["Research Pressure", "GPU Guilt", "Reproducibility Doubt", "Evaluation Metric Obsession", "The Ethics Weight"]:
        assert f"\n### {pressure}\n" in fatigue
    manager = load_file(BUNDLED_CORPUS / "manager-conversation.md").text
    assert "## 4. High-Pressure Negotiation Script (Word-for-Word)" in manager


@pytest.mark.parametrize("debris", ["Skip to main content", "Related roles", "Want your personal score?",
                                    "Continue Exploring", "meta_description", "New member", "no signup"])
def test_web_debris_is_gone(debris):
    for path in BUNDLED_CORPUS.glob("*.md"):
        assert debris not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents are not beside this checkout")
def test_numbers_and_sentences_stay_exact():
    documents, _ = load_corpus([BUNDLED_CORPUS])
    by_source = {doc.source: doc.text.replace("**", "") for doc in documents}
    for seed in SEEDS.glob("*.txt"):
        corpus_text = re.sub(r"\s+", " ", by_source[seed.name])
        for number in set(re.findall(r"\$?\d[\d,.]*%?", seed.read_text(encoding="utf-8"))):
            assert number.rstrip(".,") in corpus_text, (seed.name, number)
        pieces = re.split(r"(?<=[.?!])\s+|\n", seed.read_text(encoding="utf-8"))
        sentences = [s.strip(" •-\u00a0") for s in pieces if len(s.split()) >= 12]
        kept = [s for s in sentences if re.sub(r"\s+", " ", s).strip() in corpus_text]
        missing = [s for s in sentences if s not in kept and "meta_description" not in s]
        assert missing == [], seed.name
