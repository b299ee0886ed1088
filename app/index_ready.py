"""Make sure an index matching the corpus exists before anything retrieves from it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.config import ASK_QUESTIONS, BUNDLED_CORPUS, CARDS
from ingest.index import Index
from ingest.load import load_corpus
from ingest.pipeline import derived_hash, ingest


def is_stale(index: Index) -> bool:
    """True when a corpus file was added, changed or removed since the last ingest, or the answer cards
    or sentence-role rules changed."""
    manifest = index.check()
    if manifest.derived != derived_hash(CARDS, ASK_QUESTIONS):
        return True
    folders = [BUNDLED_CORPUS, *(Path(p) for p in manifest.corpora)]
    documents, _ = load_corpus(folders)
    current = {doc.doc_id: doc.content_hash for doc in documents}
    return current != {doc_id: entry["hash"] for doc_id, entry in manifest.documents.items()}


def ready_index(*, data_dir: Path, say: Callable[[str], None], server: str = "") -> Index:
    """The index under data_dir, built on first use and refreshed when the corpus changed.

    On a Chroma server (a team's deployment) nothing is built here: `steady ingest` is its own step, and
    workers only read, so a missing index is an error naming that step.
    An index built with another embedding model is not silently replaced: rebuilding is the
    user's call (`steady ingest --rebuild`), so ModelMismatch propagates.
    """
    index = Index(data_dir=data_dir, server=server)
    if server:
        index.check()
        return index
    if not index.exists():
        say("No index yet: building it from the bundled guidance (once, about 25 s)...")
    elif is_stale(index):
        say("The guidance changed since the last ingest: updating the index...")
    else:
        return index
    summary = ingest(index=index, bundled=BUNDLED_CORPUS, cards=CARDS, questions=ASK_QUESTIONS)
    say(summary.line())
    return index

