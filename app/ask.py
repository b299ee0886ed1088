"""Ask mode without a model: retrieve, then answer with the guidance's own sentences, cited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from app.prompts import texts
from app.reply import Reply, citation
from app.retrieval import Passage, Retriever

# Calibrated on evals/retrieval (questions.yaml vs offtopic.yaml): below this dense score the
# best passage doesn't answer the question (declines 4.5% of in-scope, accepts 6.7% off-topic).
RELEVANCE_THRESHOLD = 0.48
PASSAGES = 3  # passages an answer may quote
MAX_SENTENCES = 4
PER_PASSAGE = 2  # diversity: no single passage fills the answer
SENTENCE_FLOOR = 0.2  # a quoted sentence is at most this much less similar than the best one

# "what about seniors?", "and if I'm junior?": opens like a follow-up or points back at the last turn.
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|or|also|then|what about|how about|what if|same|ok so)\b"
    r"|\b(it|that|this|they|them|those|these)\b",
    re.IGNORECASE,
)
LEXICAL_BONUS = 0.15  # sentence choice: cosine plus this times the share of query terms it contains
# A sentence opening like this leans on the one before it, which is quoted too.
_LEANS_BACK = re.compile(r"^(This|These|That|Those|It|They|Such|But|However|Both|Otherwise)\b")


@cache
def _stemmer():
    from Stemmer import Stemmer

    return Stemmer("english")


def _terms(text: str) -> set[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return set(_stemmer().stemWords([w for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS_EN]))


def is_follow_up(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question))


def condense(question: str, *, previous: str | None) -> str:
    """A follow-up made standalone by carrying the previous question's topic into the query."""
    if previous and is_follow_up(question):
        return f"{previous} {question}"
    return question


@dataclass(frozen=True)
class Grounding:
    question: str
    standalone: str
    passages: list[Passage]
    narrowed: bool = False  # retrieval used only the clause carrying the question

    @property
    def in_scope(self) -> bool:
        return bool(self.passages) and (self.passages[0].similarity or 0.0) >= RELEVANCE_THRESHOLD


def ground(
    retriever: Retriever, question: str, *, previous: str | None = None, standalone: str | None = None
) -> Grounding:
    """Retrieve for the question, made standalone (by a model's rewrite if given, else by condense)."""
    standalone = standalone or condense(question, previous=previous)
    grounding = Grounding(question, standalone, retriever.search(standalone, k=5))
    focus = _asked_part(standalone)
    if not grounding.in_scope and focus:  # "I can't sleep and my chest hurts, how do I cut my hours?"
        narrowed = Grounding(question, focus, retriever.search(focus, k=5), narrowed=True)
        if narrowed.in_scope:
            return narrowed
    return grounding


_QUESTION_PART = re.compile(r"(?:^|[.!;,]\s+)([^.!;,?]*\?)\s*$")


def _asked_part(text: str) -> str | None:
    """The clause that carries the question, when a message wraps it in other things."""
    match = _QUESTION_PART.search(text)
    part = match.group(1).strip() if match else ""
    return part if len(part.split()) >= 3 and part != text.strip() else None


def decline() -> Reply:
    words = texts("ask")
    return Reply(mode="ask", text=words["decline"], choices=list(words["decline_choices"]),
                 state={"grounded": False})


def _pick(question: str, scored_sentences: list[list[tuple[str, float]]]) -> dict[int, list[int]]:
    """Which sentences to quote: passage position -> sentence positions, in reading order."""
    # The words of this turn's question weigh most: "junior" must not pick a sentence on seniors.
    terms = _terms(question)
    scored = []
    for p_index, passage_sentences in enumerate(scored_sentences):
        for s_index, (sentence, similarity) in enumerate(passage_sentences):
            overlap = len(terms & _terms(sentence)) / len(terms) if terms else 0.0
            scored.append((similarity + LEXICAL_BONUS * overlap, p_index, s_index))
    scored.sort(reverse=True)
    best = scored[0][0] if scored else 0.0
    chosen: dict[int, list[int]] = {}
    for similarity, p_index, s_index in scored:
        if sum(map(len, chosen.values())) >= MAX_SENTENCES or similarity < best - SENTENCE_FLOOR:
            break
        if len(chosen.get(p_index, [])) < PER_PASSAGE:
            chosen.setdefault(p_index, []).append(s_index)
    return {p: sorted(s) for p, s in chosen.items()}


def compose(retriever: Retriever, grounding: Grounding, *, follow_up: bool = False) -> Reply:
    """The embedded answer: verbatim sentences of the best passages, numbered like the citations."""
    if not grounding.in_scope:
        return decline()
    words = texts("ask")
    passages = grounding.passages[:PASSAGES]
    scored = [retriever.sentence_similarities(grounding.standalone, p) for p in passages]
    paragraphs, citations = [], []
    for p_index, s_indexes in sorted(_pick(grounding.question, scored).items()):
        passage = passages[p_index]
        sentences = [s for s, _ in scored[p_index]]
        keep = set(s_indexes)
        keep |= {i - 1 for i in s_indexes if i > 0 and _LEANS_BACK.match(sentences[i])}
        quote = " ".join(sentences[i] for i in sorted(keep))
        citations.append(citation(len(citations) + 1, passage))
        paragraphs.append(f"“{quote}” [{len(citations)}]")
    lead_doc = grounding.passages[0].doc_id
    next_step = words["next_steps"].get(lead_doc, "")
    opener = words["followup_opener"] if follow_up else words["opener"]
    text = "\n\n".join([opener, *paragraphs, *([next_step] if next_step else [])])
    return Reply(mode="ask", text=text, citations=citations, choices=list(words["choices"]),
                 state={"grounded": True, "query": grounding.standalone})
