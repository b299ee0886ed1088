"""Ingestion into a real Chroma index on disk: idempotent, incremental, and kind to bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.index import ModelMismatch
from ingest.load import load_file
from ingest.pipeline import ingest
from ingest.split import split_document


def _doc_ids(index) -> set[str]:
    return {meta["doc_id"] for meta in index.all_chunks()[2]}


def test_second_ingest_embeds_nothing(new_index, corpus_copy):
    index = new_index()
    first = ingest(index=index, bundled=corpus_copy)
    assert first.documents == 3 and first.added >= 17 and first.kept == 0  # 17 passages at least
    second = ingest(index=index, bundled=corpus_copy)
    assert (second.added, second.removed, second.kept) == (0, 0, first.added)
    assert "nothing re-embedded" in second.line()


def test_editing_one_file_reembeds_only_its_chunks(new_index, corpus_copy):
    index = new_index()
    ingest(index=index, bundled=corpus_copy)
    before = set(index.all_chunks()[0])
    path = corpus_copy / "avoiding-burnout-forum.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nA new closing paragraph about rest.\n", encoding="utf-8")
    summary = ingest(index=index, bundled=corpus_copy)
    after = set(index.all_chunks()[0])
    added, removed = after - before, before - after
    assert summary.added == len(added) >= 1 and summary.removed == len(removed)
    assert all(chunk_id.startswith("avoiding-burnout-forum:") for chunk_id in added | removed)


def test_deleting_a_file_removes_its_chunks(new_index, corpus_copy):
    index = new_index()
    ingest(index=index, bundled=corpus_copy)
    (corpus_copy / "manager-conversation.md").unlink()
    summary = ingest(index=index, bundled=corpus_copy)
    assert summary.removed > 0 and summary.added == 0
    assert "manager-conversation" not in _doc_ids(index)
    assert "manager-conversation" not in json.loads(index.manifest_path.read_text())["documents"]


def test_bad_files_are_reported_and_the_rest_ingests(new_index, corpus_copy):
    (corpus_copy / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me notes about burnout".encode("latin-1"))
    (corpus_copy / "empty.md").write_text("---\nid: empty\n---\n\n", encoding="utf-8")
    (corpus_copy / "notes.txt").write_text("Plain notes about pacing myself during crunch.", encoding="utf-8")
    index = new_index()
    summary = ingest(index=index, bundled=corpus_copy)
    problems = {p.path.name: p.message for p in summary.problems}
    assert "not UTF-8" in problems["latin1.txt"]
    assert "empty" in problems["empty.md"]
    assert summary.documents == 4 and "notes" in _doc_ids(index)


def test_an_index_from_another_model_is_detected_and_rebuilt(new_index, corpus_copy):
    index = new_index()
    ingest(index=index, bundled=corpus_copy)
    manifest = json.loads(index.manifest_path.read_text())
    manifest.update(model="some/other-model", dimensions=768)
    index.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ModelMismatch, match="steady ingest --rebuild"):
        index.check()
    summary = ingest(index=index, bundled=corpus_copy)
    assert "other-model" in summary.rebuilt and summary.kept == 0 and summary.added >= 17
    index.check()


def test_chunks_carry_their_heading_path():
    from app.config import BUNDLED_CORPUS

    chunks = split_document(load_file(BUNDLED_CORPUS / "ml-engineer-fatigue.md"))
    sections = {chunk.section for chunk in chunks}
    assert "The Five Distinct Pressures ML Engineers Carry > GPU Guilt" in sections
    gpu = next(c for c in chunks if c.section.endswith("GPU Guilt"))
    assert gpu.embed_text.startswith(gpu.section) and gpu.text.startswith("Every training run has a cost.")


def test_onnx_embeddings_match_sentence_transformers(models_dir: Path):
    from sentence_transformers import SentenceTransformer

    from ingest.embed import Embedder, weights_dir

    texts = ["I dread opening my laptop", "GPU guilt " * 300]  # the second is truncated at 256 tokens
    reference = SentenceTransformer(str(weights_dir()), device="cpu").encode(texts, normalize_embeddings=True)
    ours = Embedder(models_dir=models_dir).embed_documents(texts)
    for a, b in zip(ours, reference, strict=True):
        assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.9999
