"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Literal

import numpy as np

from ingest.index import Index
from ingest.roles import QUOTABLE
from ingest.split import sentences

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")

# Tuned on evals/retrieval/questions.yaml (see README, "Retrieval quality").
RRF_K = 10
DENSE_WEIGHT = 1.0
BM25_WEIGHT = 0.5
PROBE_WEIGHT = 0.9  # a passage's dense score mixes its own vector and its best probe


@dataclass(frozen=True)
class Passage:
    rank: int
    doc_id: str
    title: str
    section: str
    score: float  # fused score in hybrid mode, else the single method's score
    similarity: float | None  # cosine similarity to the query (not computed in bm25 mode)
    text: str
    source: str
    chunk_id: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Sentence:
    text: str
    similarity: float  # cosine similarity to the query
    role: str  # ingest/roles.py; "" for a sentence too short to have been embedded

    @property
    def quotable(self) -> bool:
        return self.role in QUOTABLE


@dataclass(frozen=True)
class CardHit:
    """An answer card (ingest/cards.py) and how close its answer is to the query."""

    chunk_id: str
    facets: tuple[str, ...]
    answer: str
    similarity: float  # the closest of its answer, its paragraph's and its section's hint questions
    paragraph_similarity: float = 0.0  # the closer of its answer and its paragraph's hint questions
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)  # its answer's, from the index


def _tokenizer():
    import bm25s
    import Stemmer

    return bm25s.tokenization.Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en", splitter=r"(?u)\b\w+\b")


class Retriever:
    """Built once per process over every chunk in the index; `search` is then cheap."""

    def __init__(self, *, index: Index) -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG when imported

        index.check()
        self.index = index
        self.version = index.version()  # what was loaded: a worker compares it with the index's (app/server.py)
        ids, texts, metas = index.all_chunks()
        self._chunks = {
            chunk_id: Passage(0, m["doc_id"], m["title"], m["section"], 0.0, 0.0, text, m["source"], chunk_id)
            for chunk_id, text, m in zip(ids, texts, metas, strict=True)
            if m.get("kind") == "chunk"
        }
        self._sentence_vectors = self._load_sentence_vectors()
        self._load_dense()
        self._load_cards()
        self._ids = list(self._chunks)
        self._tokenizer = _tokenizer()
        hints = {chunk_id: m.get("hints", "") for chunk_id, m in zip(ids, metas, strict=True)}
        corpus = [f"{p.section}\n{p.text}\n{hints[p.chunk_id]}" for p in self._chunks.values()]
        self._bm25 = bm25s.BM25()
        self._bm25.index(self._tokenizer.tokenize(corpus, return_as="tuple", show_progress=False), show_progress=False)

    def __len__(self) -> int:
        return len(self._chunks)

    def _load_sentence_vectors(self) -> dict[str, tuple[list[str], list[str], np.ndarray]]:
        got = self.index.collection.get(where={"role": "sentence"}, include=["embeddings", "documents", "metadatas"])
        by_parent: dict[str, list[tuple[str, str, np.ndarray]]] = {}
        for text, vector, meta in zip(got["documents"], got["embeddings"], got["metadatas"], strict=True):
            by_parent.setdefault(meta["parent"], []).append(
                (text, meta.get("says", ""), np.asarray(vector, dtype=np.float32)))
        return {parent: ([t for t, _, _ in rows], [r for _, r, _ in rows], np.stack([v for _, _, v in rows]))
                for parent, rows in by_parent.items()}

    def sentence_similarities(self, query: str | np.ndarray, passage: Passage) -> list[Sentence]:
        """The passage's sentences in order, each with its cosine similarity to the query (a text, or a vector
        already at hand, such as a card's) and its role."""
        texts, roles, vectors = self._sentence_vectors.get(passage.chunk_id, ([], [], np.zeros((0, 1))))
        vector = np.asarray(self.index.embedder.embed_query(query) if isinstance(query, str) else query)
        scores = dict(zip(texts, (vectors @ vector).tolist(), strict=True)) if texts else {}
        role = dict(zip(texts, roles, strict=True))
        return [Sentence(s, scores.get(s, 0.0), role.get(s, "")) for s in sentences(passage.text)]

    @lru_cache(maxsize=8)  # noqa: B019 - one retriever per process; a turn embeds the same query for several uses
    def vector(self, query: str) -> np.ndarray:
        """The query's embedding."""
        return np.asarray(self.index.embedder.embed_query(query), dtype=np.float32)

    @lru_cache(maxsize=8)  # noqa: B019 - one retriever per process; a turn asks for the same query's scores twice
    def _similarity(self, query: str) -> np.ndarray:
        """The query's cosine similarity to every passage and probe vector."""
        return self._matrix @ self.vector(query)

    def _load_cards(self) -> None:
        got = self.index.collection.get(where={"kind": "card"}, include=["embeddings", "documents", "metadatas"])
        self._card_matrix = (np.asarray(got["embeddings"], dtype=np.float32) if got["documents"]
                             else np.zeros((0, self._matrix.shape[1]), dtype=np.float32))
        self.carded_documents = {m["doc_id"] for m in got["metadatas"]}
        self._cards = [CardHit(m["parent"], tuple(f for f in m.get("facets", "").split(",") if f), text, 0.0,
                               vector=vector)
                       for text, m, vector in zip(got["documents"], got["metadatas"], self._card_matrix, strict=True)]
        # The rows of each card's hint questions in the dense matrix (they are probes of its passage).
        def rows(m: dict, key: str) -> np.ndarray:
            return np.asarray([self._probe_row[(m["parent"], q)] for q in m.get(key, "").split("\n")
                               if (m["parent"], q) in self._probe_row], dtype=np.int64)
        self._card_asks = [(rows(m, "asks"), rows(m, "section_asks")) for m in got["metadatas"]]

    def cards(self, query: str, *, chunk_ids: list[str] | None = None) -> list[CardHit]:
        """The answer cards (of these passages, if given), closest to the query first: a card is as close
        as its answer or the nearest of its passage's hint questions."""
        if not self._cards:
            return []
        by_answer = self._card_matrix @ self.vector(query)
        probes = self._similarity(query)
        wanted = set(chunk_ids) if chunk_ids is not None else None
        hits = []
        for card, sim, (asks, section_asks) in zip(self._cards, by_answer, self._card_asks, strict=True):
            if wanted is None or card.chunk_id in wanted:
                own = max(float(sim), float(probes[asks].max()) if len(asks) else -1.0)
                section = max(own, float(probes[section_asks].max()) if len(section_asks) else -1.0)
                hits.append(replace(card, similarity=round(section, 4), paragraph_similarity=round(own, 4)))
        return sorted(hits, key=lambda c: -c.similarity)

    def passage(self, chunk_id: str) -> Passage | None:
        return self._chunks.get(chunk_id)

    def _load_dense(self) -> None:
        """Every vector (passages and probes) in one matrix: an exact scan of ~1,500 vectors takes
        well under a millisecond, where a Chroma query for the same candidates took ~20 ms."""
        got = self.index.store.get(include=["embeddings", "metadatas", "documents"])
        rows = [(vector, m.get("parent", chunk_id), m.get("kind") == "probe", text)
                for chunk_id, vector, m, text in zip(got["ids"], got["embeddings"], got["metadatas"], got["documents"],
                                                     strict=True)
                if m.get("kind") == "probe" or chunk_id in self._chunks]
        self._matrix = np.asarray([r[0] for r in rows], dtype=np.float32).reshape(len(rows), -1)
        self._probe_row = {(r[1], r[3]): i for i, r in enumerate(rows) if r[2]}
        parents = {chunk_id: i for i, chunk_id in enumerate(self._chunks)}
        self._row_parent = np.asarray([parents.get(r[1], -1) for r in rows], dtype=np.int64)
        self._row_is_probe = np.asarray([r[2] for r in rows], dtype=bool)

    def _dense(self, query: str) -> list[tuple[str, float]]:
        """Passages by dense score: their own similarity mixed with their best probe's."""
        if not len(self._matrix):
            return []
        similarity = self._similarity(query)
        own = np.zeros(len(self._chunks), dtype=np.float32)
        best_probe = np.full(len(self._chunks), -1.0, dtype=np.float32)
        known = self._row_parent >= 0
        passages, probes = known & ~self._row_is_probe, known & self._row_is_probe
        own[self._row_parent[passages]] = similarity[passages]
        np.maximum.at(best_probe, self._row_parent[probes], similarity[probes])
        best_probe = np.maximum(best_probe, 0.0)
        scores = (1 - PROBE_WEIGHT) * own + PROBE_WEIGHT * best_probe
        order = np.argsort(-scores, kind="stable")
        return [(self._ids[i], float(scores[i])) for i in order]

    def _lexical(self, query: str, n: int) -> list[tuple[str, float]]:
        tokens = self._tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)
        if not tokens or not tokens[0]:
            return []
        docs, scores = self._bm25.retrieve(tokens, k=n, show_progress=False, n_threads=1)
        return [(self._ids[i], float(s)) for i, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def search(self, query: str, *, k: int = 5, mode: Mode = "hybrid") -> list[Passage]:
        if not query.strip() or not self._chunks:
            return []
        dense = self._dense(query) if mode != "bm25" else []
        lexical = self._lexical(query, len(self._chunks)) if mode != "dense" else []
        similarity = dict(dense)
        if mode == "dense":
            ranked = dense
        elif mode == "bm25":
            ranked = lexical
        else:
            fused: dict[str, float] = {}
            for weight, ranking in ((DENSE_WEIGHT, dense), (BM25_WEIGHT, lexical)):
                for position, (chunk_id, _) in enumerate(ranking):
                    fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + position + 1)
            ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)
        return [
            replace(self._chunks[chunk_id], rank=i + 1, score=round(score, 6), similarity=_rounded(similarity.get(chunk_id)))
            for i, (chunk_id, score) in enumerate(ranked[:k])
        ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
