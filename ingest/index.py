"""The persistent index: a Chroma collection on disk and a manifest saying how it was built."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ingest.embed import DIMENSIONS, Embedder, model_id

COLLECTION = "guidance"
MANIFEST_VERSION = 1


class IndexUnavailable(RuntimeError):
    """The index can't be used as it is; the message says which command fixes it."""


class MissingIndex(IndexUnavailable):
    pass


class ModelMismatch(IndexUnavailable):
    pass


@dataclass
class Manifest:
    model: str
    dimensions: int
    corpora: list[str] = field(default_factory=list)  # folders ingested besides the bundled one
    documents: dict[str, dict] = field(default_factory=dict)  # doc_id -> {path, hash, chunks}
    derived: str = ""  # hash of what ingest adds to the corpus (answer cards, sentence-role rules)
    version: int = MANIFEST_VERSION

    @classmethod
    def fresh(cls) -> Manifest:
        return cls(model=model_id(), dimensions=DIMENSIONS)

    def matches_model(self) -> bool:
        return self.model == model_id() and self.dimensions == DIMENSIONS and self.version == MANIFEST_VERSION


class Index:
    """Opens (and on request creates) the index under a data folder."""

    def __init__(self, *, data_dir: Path, progress: bool = False) -> None:
        self.data_dir = data_dir
        self.chroma_dir = data_dir / "chroma"
        self.manifest_path = data_dir / "manifest.json"
        self.embedder = Embedder(models_dir=data_dir / "models", progress=progress)
        self._store = None
        self._collection = None

    def exists(self) -> bool:
        return self.manifest_path.exists() and self.chroma_dir.exists()

    def read_manifest(self) -> Manifest | None:
        try:
            raw = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            return Manifest(**raw)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            # An unreadable manifest is treated as another model's: the index gets rebuilt.
            return Manifest(model="unknown", dimensions=0)

    def write_manifest(self, manifest: Manifest) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        partial = self.manifest_path.with_suffix(".partial")
        partial.write_text(json.dumps(manifest.__dict__, indent=2, sort_keys=True), encoding="utf-8")
        partial.replace(self.manifest_path)

    def check(self) -> Manifest:
        """The manifest of a usable index, or an error naming the command that fixes it."""
        manifest = self.read_manifest()
        if manifest is None or not self.chroma_dir.exists():
            raise MissingIndex(f"No index in {self.data_dir}. Build it with: steady ingest")
        if not manifest.matches_model():
            raise ModelMismatch(
                f"The index in {self.data_dir} was built with {manifest.model} ({manifest.dimensions} dimensions), "
                f"not {model_id()}. Rebuild it with: steady ingest --rebuild"
            )
        return manifest

    def _open(self) -> None:
        import chromadb
        from langchain_chroma import Chroma

        try:
            client = chromadb.PersistentClient(
                path=str(self.chroma_dir), settings=chromadb.Settings(anonymized_telemetry=False)
            )
            # Writes go straight to the collection, with vectors of the heading-prefixed text;
            # reads go through LangChain's Chroma integration.
            self._collection = client.get_or_create_collection(COLLECTION, metadata={"hnsw:space": "cosine"})
        except Exception as exc:  # noqa: BLE001 - chromadb raises its own types for disk trouble
            reason = "the folder is read-only" if "readonly" in str(exc).replace("-", "") else type(exc).__name__
            raise IndexUnavailable(
                f"Steady can't open its index in {self.chroma_dir} ({reason}). Point STEADY_DATA_DIR at a "
                "folder you can write to, or run `steady ingest` there."
            ) from None
        self._store = Chroma(collection_name=COLLECTION, embedding_function=self.embedder, client=client)

    @property
    def store(self):  # -> langchain_chroma.Chroma
        if self._store is None:
            self._open()
        return self._store

    @property
    def collection(self):  # -> chromadb.Collection
        if self._collection is None:
            self._open()
        return self._collection

    def reset(self) -> None:
        """Drop everything indexed (the exported embedding model is kept)."""
        if self.chroma_dir.exists():
            self.store.delete_collection()
            self._store = self._collection = None
        self.manifest_path.unlink(missing_ok=True)

    def all_chunks(self) -> tuple[list[str], list[str], list[dict]]:
        """Ids, texts and metadata of every indexed chunk."""
        got = self.collection.get(include=["documents", "metadatas"])
        return got["ids"], got["documents"], got["metadatas"]
