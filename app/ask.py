"""Ask mode without a model: a coach's direct answer, the guidance's own words as evidence, one next step.

The direct answer is an answer card (prompts/cards/, Steady's own words for what one passage advises);
the evidence is one or two of that passage's advice or fact sentences (ingest/roles.py), verbatim and
cited; the next step depends on what the person has already done. What the question is about comes
from its reading (app/reading.py): whether the guidance speaks to it (a learned decision, checked
against how well anything was retrieved), whether it leans on the previous question, and its facets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from app import learned
from app.prompts import texts
from app.reading import Reading
from app.reply import Reply, citation
from app.retrieval import CardHit, Passage, Retriever, Sentence

PASSAGES = 8  # passages retrieved; a card is chosen among theirs
# A question that leans on the previous one is retrieved with it unless that retrieves worse than the
# question alone by more than this (measured on evals/ask dev: asking for more agreement cost follow-ups).
FOLLOW_UP_MARGIN = 0.05
# A question that is out of scope alone is read with the previous one when it leans back at least this much
# ("how much per week is reasonable", 0.32): on dev2 follow-ups right 30 -> 31 of 37 (32 at 0.05), off-topic and
# near-domain unchanged; on 631 unseen follow-up and stand-alone questions (helper-written) follow-ups answered
# 303 -> 314 of 364, off-topic answered 6 -> 7 of 94.
LEANS_WHEN_OUT = 0.1
# Scope: the mean of the learned in-domain probability and the probability of the section the "sections" decision
# is surest of (for a follow-up retrieved with its question, both read the two together). Chosen on
# evals/ask/dev2.yaml, the one labelled set no decision learns from (the others' dev splits are refit into them):
# its in-scope questions' lowest mean is 0.555 and its off-topic and near-domain ones' next highest 0.523; the
# threshold sits between. 2 of the 110 retrieval questions fall below it. A passage retrieved this closely counts
# alone (guidance a person added has no sections the decision knows). Similarity alone is not enough below that:
# "which GPU should I buy to stop feeling guilty?" retrieves GPU guilt well.
SCOPE = 0.54
SCOPE_SURE_SIMILARITY = 0.7
# Card choice: similarity to the question and to the query, plus FACET_WEIGHT times the share of the question's
# facets the card answers, plus RANK_WEIGHT over the rank of its passage, plus SECTION_WEIGHT times the probability
# the learned "sections" decision (app/learned.py: Ask's train questions and the search hints) gives the passage's
# section. That decision leads where it is sure and the similarities break ties. For a follow-up it reads the
# question with the previous one, mixed with ALONE_WEIGHT of the question alone: a follow-up often asks for what the
# last answer did not say (on dev2, follow-ups right 29 → 30 of 37, flat from 0.2 to 0.5).
FACET_WEIGHT = 0.2
RANK_WEIGHT = 0.05
SECTION_WEIGHT = 5.0
ALONE_WEIGHT = 0.35
EVIDENCE_WORDS = 70  # one or two sentences
SECOND_SENTENCE_FLOOR = 0.1  # a second quoted sentence is at most this much less apt than the first


@dataclass
class AskMemory:
    """What Ask carries from one question to the next."""

    last_query: str | None = None  # the last answered question, standalone (a follow-up leans on it)
    last_card: str | None = None  # the answer card used for it (a follow-up gets a different one)
    chosen: bool = False  # the person chose /ask: answers, no check-in offers

    @property
    def answered(self) -> bool:
        return self.last_query is not None


@dataclass(frozen=True)
class Grounding:
    question: str
    standalone: str  # what was retrieved for: the question, or the previous one with it when it leans on it
    passages: list[Passage]
    in_scope: bool
    follow_up: bool = False  # it leans on the previous question (retrieved with it when that retrieves better)
    card: CardHit | None = None
    facets: tuple[str, ...] = ()


def _scoped(retriever: Retriever, query: str, domain: float, passages: list[Passage]) -> bool:
    if not passages:
        return False
    surest = max(_sections(retriever, query).values())
    return (domain + surest) / 2 >= SCOPE or _top(passages) >= SCOPE_SURE_SIMILARITY


def _domain(retriever: Retriever, query: str) -> float:
    """The learned in-domain probability of a query that is not the message itself (a follow-up with its question)."""
    return learned.model("domain").scores(retriever.vector(query), query)["in"]


@lru_cache(maxsize=8)  # scope and the card choice ask for the same query's sections in one turn
def _sections(retriever: Retriever, query: str) -> dict[str, float]:
    """The learned probability of each section of the guidance answering the query (read, never changed)."""
    return learned.model("sections").scores(retriever.vector(query), query)


def _top(passages: list[Passage]) -> float:
    return (passages[0].similarity or 0.0) if passages else 0.0


def ground(retriever: Retriever, reading: Reading, *, previous: str | None = None,
           standalone: str | None = None, exclude: str | None = None) -> Grounding:
    """What the answer rests on. A follow-up ("what if I'm junior?") is retrieved together with the previous
    question, but only when the reading says it leans on it and the evidence agrees: a complete new
    question is never glued to the last one. A follow-up asks for more than was just said, so the card
    given last (`exclude`) isn't given again when its passage has another."""
    question, searched = reading.text, reading.searchable
    own = retriever.search(searched, k=PASSAGES)
    query, passages = searched, own
    in_scope = _scoped(retriever, searched, reading.in_domain, own)
    asked = reading.question  # a question said after other things is in scope when it is, alone
    if not in_scope and asked is not None:  # dev2: in-scope 0.868 -> 0.877, declined unchanged
        in_scope = _scoped(retriever, asked.searchable, asked.in_domain, retriever.search(asked.searchable, k=PASSAGES))
    # A question the guidance can't answer alone needs less to be read with the one before it.
    follow_up = bool(previous and (standalone or reading.leans_back or not in_scope and reading.leans >= LEANS_WHEN_OUT))
    if follow_up:
        joined = standalone or f"{previous} {searched}"
        context = retriever.search(joined, k=PASSAGES)
        if not in_scope or _top(context) >= _top(own) - FOLLOW_UP_MARGIN:
            query, passages = joined, context
            in_scope = _scoped(retriever, joined, _domain(retriever, joined), context)
    if not in_scope:
        return Grounding(question, query, passages, in_scope=False)
    facets = reading.facets
    return Grounding(question, query, passages, in_scope=True, follow_up=follow_up, facets=facets,
                     card=_card(retriever, searched, query, passages, facets, exclude=exclude if follow_up else None))


def _card(retriever: Retriever, question: str, query: str, passages: list[Passage],
          facets: tuple[str, ...], *, exclude: str | None = None) -> CardHit | None:
    """The card that answers best. First its passage: the one whose cards (and the questions asked of it) are
    closest to the question and to what was retrieved for (the two differ for a follow-up, whose own words
    name its facet: "what if I'm junior?"), well ranked, answering the question's facets, in a section the learned
    section decision (trained on Ask's questions and the search hints) expects. Then, among that
    passage's cards, the one whose own paragraph is closest."""
    rank = {p.chunk_id: i for i, p in enumerate(passages)}
    cards = retriever.cards(query, chunk_ids=list(rank))
    # Guidance a person added (`steady ingest --corpus`) has no cards: when it ranks first, it speaks for
    # itself rather than losing to the nearest bundled card.
    if not cards or passages[0].doc_id not in retriever.carded_documents:
        return None
    alone = {c.answer: c for c in (retriever.cards(question, chunk_ids=list(rank)) if question != query else cards)}

    def facet_share(card: CardHit) -> float:
        # The reading's facets come most likely first, and weigh so: "what if I'm junior?" reads junior before
        # senior, and the junior card must not lose to the senior one on a tie.
        weights = {facet: 1 / (1 + i) for i, facet in enumerate(facets)}
        return sum(weights.get(f, 0.0) for f in set(card.facets)) / sum(weights.values()) if facets else 0.0

    sections = _sections(retriever, query)
    if query != question:
        alone_sections = _sections(retriever, question)
        sections = {k: (1 - ALONE_WEIGHT) * v + ALONE_WEIGHT * alone_sections[k] for k, v in sections.items()}
    section_of = {p.chunk_id: learned.section_label(p.doc_id, p.section) for p in passages}

    def passage_score(card: CardHit) -> float:
        return (card.similarity + alone[card.answer].similarity + RANK_WEIGHT / (1 + rank[card.chunk_id])
                + FACET_WEIGHT * facet_share(card) + SECTION_WEIGHT * sections.get(section_of[card.chunk_id], 0.0))

    lead = max(cards, key=passage_score).chunk_id
    own = [c for c in cards if c.chunk_id == lead]
    own = [c for c in own if c.answer != exclude] or own  # more of the same passage, rather than a repeat
    return max(own, key=lambda c: (
        c.paragraph_similarity + alone[c.answer].paragraph_similarity + FACET_WEIGHT * facet_share(c)))


def decline() -> Reply:
    words = texts("ask")
    return Reply(mode="ask", text=words["decline"], choices=list(words["decline_choices"]),
                 state={"grounded": False})


def evidence(retriever: Retriever, grounding: Grounding) -> list[tuple[Passage, list[Sentence]]]:
    """One or two quotable sentences, from the card's passage first, in the passage's order."""
    card = grounding.card
    lead = retriever.passage(card.chunk_id) if card else None
    passages = [lead, *(p for p in grounding.passages if p.chunk_id != lead.chunk_id)] if lead else grounding.passages
    for passage in passages:
        by_query = retriever.sentence_similarities(grounding.standalone, passage)
        by_card = retriever.sentence_similarities(card.vector, passage) if card else by_query
        scored = sorted(((q.similarity + c.similarity, i) for i, (q, c) in enumerate(zip(by_query, by_card, strict=True))
                         if q.quotable), reverse=True)
        if not scored:
            continue  # a question or a story: never quoted as advice
        first = scored[0][1]
        # A second sentence only when it is as apt, next to the first, and the quote stays short.
        second = [i for score, i in scored[1:] if abs(i - first) == 1 and score >= scored[0][0] - SECOND_SENTENCE_FLOOR
                  and len((by_query[first].text + " " + by_query[i].text).split()) <= EVIDENCE_WORDS][:1]
        chosen = [first, *second]
        return [(passage, [by_query[i] for i in sorted(chosen)])]
    return []


def _next_step(grounding: Grounding, *, done: set[str]) -> str:
    """One next step that fits the question and what the person has already done."""
    steps = texts("ask")["next"]
    facets = set(grounding.facets) | set(grounding.card.facets if grounding.card else ())
    if facets & set(steps["rehearse_for"]):
        return steps["rehearsed"] if "rehearse" in done else steps["rehearse"]
    if facets & set(steps["checkin_for"]) and "checkin" not in done:
        return steps["checkin"]
    if "checkin" in done and "rehearse" not in done and facets & set(steps["after_checkin_for"]):
        return steps["after_checkin"]
    return steps["follow_up_level"] if facets & set(steps["follow_up_for_level"]) else steps["follow_up"]


def compose(retriever: Retriever, grounding: Grounding, *, done: set[str] = frozenset(),
            next_step: bool = True) -> Reply:
    """The embedded answer: the card's direct answer, the quoted evidence [1], one next step."""
    quoted = evidence(retriever, grounding) if grounding.in_scope else []
    if not quoted:
        return decline()
    words = texts("ask")
    citations = [citation(1, passage, quoted=[s.text for s in sentences]) for passage, sentences in quoted]
    quotes = [f"“{' '.join(s.text for s in sentences)}” [1]" for _, sentences in quoted]
    direct = grounding.card.answer if grounding.card else words["closest"]
    step = [_next_step(grounding, done=done)] if next_step else []
    text = "\n\n".join([direct, *quotes, *step])
    choices = [c for c in words["choices"] if not (c == words["checkin_choice"] and "checkin" in done)]
    return Reply(mode="ask", text=text, citations=citations, choices=choices,
                 state={"grounded": bool(citations), "query": grounding.standalone, "follow_up": grounding.follow_up,
                        "facets": list(grounding.facets)})
