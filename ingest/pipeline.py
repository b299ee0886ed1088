"""`steady ingest`: bring the index in line with the corpus, embedding only what changed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.index import Index, Manifest
from ingest.load import Problem, load_corpus
from ingest.split import split_document


@dataclass
class IngestSummary:
    documents: int = 0
    added: int = 0
    kept: int = 0
    removed: int = 0
    seconds: float = 0.0
    rebuilt: str = ""  # why the index was rebuilt, if it was
    problems: list[Problem] = field(default_factory=list)

    def line(self) -> str:
        if self.added == 0 and self.removed == 0:
            change = f"nothing changed, nothing re-embedded ({self.kept} chunks kept)"
        else:
            change = f"chunks: {self.added} added, {self.kept} kept, {self.removed} removed"
        return f"Ingested {self.documents} documents; {change}; {self.seconds:.1f} s."


def ingest(
    *,
    index: Index,
    bundled: Path,
    extra: list[Path] | None = None,
    rebuild: bool = False,
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

    chunks = [chunk for doc in documents for chunk in split_document(doc)]
    wanted = {chunk.chunk_id: chunk for chunk in chunks}
    existing = set(index.collection.get(include=[])["ids"])
    new = [chunk for chunk_id, chunk in wanted.items() if chunk_id not in existing]
    stale = sorted(existing - wanted.keys())

    if new:
        vectors = index.embedder.embed_documents([chunk.embed_text for chunk in new])
        for start in range(0, len(new), 256):  # bounded batches: Chroma caps one upsert's size
            batch = new[start : start + 256]
            index.collection.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=vectors[start : start + 256],
                documents=[c.text for c in batch],
                metadatas=[c.metadata for c in batch],
            )
    if stale:
        index.collection.delete(ids=stale)

    manifest.documents = {
        doc.doc_id: {
            "path": str(doc.path),
            "hash": doc.content_hash,
            "chunks": [c.chunk_id for c in chunks if c.doc_id == doc.doc_id],
        }
        for doc in documents
    }
    index.write_manifest(manifest)
    summary.documents = len(documents)
    summary.added, summary.removed = len(new), len(stale)
    summary.kept = len(wanted) - len(new)
    summary.seconds = time.perf_counter() - started
    return summary
