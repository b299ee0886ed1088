"""`steady ingest`: bring the index in line with the corpus, embedding only what changed."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.cards import load_cards, place
from ingest.index import Index, Manifest
from ingest.load import Problem, load_corpus, load_question_hints
from ingest.split import split_document


@dataclass
class IngestSummary:
    documents: int = 0
    passages: int = 0
    added: int = 0
    kept: int = 0
    removed: int = 0
    seconds: float = 0.0
    rebuilt: str = ""  # why the index was rebuilt, if it was
    problems: list[Problem] = field(default_factory=list)

    def line(self) -> str:
        if self.added == 0 and self.removed == 0:
            change = f"nothing changed, nothing re-embedded ({self.kept} vectors kept)"
        else:
            change = f"vectors: {self.added} added, {self.kept} kept, {self.removed} removed"
        return f"Ingested {self.documents} documents, {self.passages} passages; {change}; {self.seconds:.1f} s."


def derived_hash(cards: Path | None, questions: Path | None) -> str:
    """What ingest adds to the corpus: the answer cards, the labelled questions and the sentence-role
    rules. When it changes the index is brought in line (metadata relabelled, new entries embedded)."""
    from ingest import roles

    digest = hashlib.sha256(Path(roles.__file__).read_bytes())
    paths = sorted(cards.glob("*.yaml")) if cards and cards.is_dir() else []
    for path in [*paths, *([questions] if questions and questions.is_file() else [])]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def ingest(
    *,
    index: Index,
    bundled: Path,
    extra: list[Path] | None = None,
    rebuild: bool = False,
    cards: Path | None = None,
    questions: Path | None = None,
) -> IngestSummary:
    started = time.perf_counter()
    summary = IngestSummary()
    manifest = index.read_manifest()
    if manifest is not None and not manifest.matches_model():
        summary.rebuilt = f"the index was built with {manifest.model}"
        rebuild = True
    if rebuild:
        index.reset()
        manifest = None
    manifest = manifest or Manifest.fresh()

    # Folders a user added earlier stay part of the corpus until they are gone.
    folders = [bundled, *(Path(p) for p in manifest.corpora)]
    folders += [p.resolve() for p in extra or [] if p.resolve() not in folders]
    documents, summary.problems = load_corpus(folders)
    manifest.corpora = [str(p) for p in folders[1:] if p.is_dir()]

    hashes = {doc.doc_id: doc.content_hash for doc in documents}  # of the corpus files themselves
    learned = load_question_hints(questions) if questions and questions.is_file() else {}
    documents = [replace(doc, hints=doc.hints + learned.get(doc.doc_id, ())) for doc in documents]
    hints = {doc.doc_id: doc.hints for doc in documents}
    chunks = [chunk for doc in documents for chunk in split_document(doc)]
    # Every vector in the index: a chunk (embedded with its heading path) or one of its probes.
    wanted = {c.chunk_id: (c.embed_text, c.text, c.metadata) for c in chunks}
    wanted |= {p.probe_id: (p.text, p.text, p.metadata) for c in chunks for p in c.probes()}
    for card in load_cards(cards) if cards else []:
        chunk = place(card, chunks)
        if chunk is not None:
            wanted[card.card_id(chunk.chunk_id)] = (card.answer, card.answer,
                                                    card.metadata(chunk.chunk_id, hints=hints.get(card.doc_id, ())))
    got = index.collection.get(include=["metadatas"])
    existing = dict(zip(got["ids"], got["metadatas"], strict=True))
    new = [entry_id for entry_id in wanted if entry_id not in existing]
    stale = sorted(existing.keys() - wanted.keys())
    # Same text, new metadata (e.g. edited hints): update in place, no re-embedding.
    relabel = [i for i in wanted if i in existing and existing[i] != wanted[i][2]]
    if new or stale or relabel:
        index.begin_update()  # on a Chroma server, a new version: workers go on reading the current one
    if relabel:
        index.collection.update(ids=relabel, metadatas=[wanted[i][2] for i in relabel])

    if new:
        vectors = index.embedder.embed_documents([wanted[entry_id][0] for entry_id in new])
        for start in range(0, len(new), 256):  # bounded batches: Chroma caps one upsert's size
            batch = new[start : start + 256]
            index.collection.upsert(
                ids=batch,
                embeddings=vectors[start : start + 256],
                documents=[wanted[entry_id][1] for entry_id in batch],
                metadatas=[wanted[entry_id][2] for entry_id in batch],
            )
    if stale:
        index.collection.delete(ids=stale)

    manifest.documents = {
        doc.doc_id: {
            "path": str(doc.path),
            "hash": hashes[doc.doc_id],
            "chunks": [c.chunk_id for c in chunks if c.doc_id == doc.doc_id],
        }
        for doc in documents
    }
    manifest.derived = derived_hash(cards, questions)
    index.write_manifest(manifest)
    summary.documents, summary.passages = len(documents), len(chunks)
    summary.added, summary.removed = len(new), len(stale)
    summary.kept = len(wanted) - len(new)
    summary.seconds = time.perf_counter() - started
    return summary
