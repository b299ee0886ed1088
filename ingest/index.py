"""The index: a Chroma collection and a manifest saying how it was built.

Two places for it, one interface (`Index`):
- on disk in the data folder (the default): a persistent Chroma folder and manifest.json beside it;
- on a Chroma server (`STEADY_CHROMA_URL`, a team's deployment), shared by every worker. There `steady
  ingest` writes a new collection (a copy of the current one, so unchanged text is not embedded again)
  and then points the manifest collection at it: workers read either the old version or the new one,
  never one half-written, and notice the switch by `version()`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ingest.embed import DIMENSIONS, Embedder, model_id

COLLECTION = "guidance"
MANIFEST_VERSION = 1
POINTER = "steady-index"  # on a Chroma server: a collection whose metadata names the current version and its manifest
COPY_BATCH = 256  # bounded batches: Chroma caps one request's size


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


def _manifest(raw: str | None) -> Manifest | None:
    if raw is None:
        return None
    try:
        return Manifest(**json.loads(raw))
    except (ValueError, TypeError):
        # An unreadable manifest is treated as another model's: the index gets rebuilt.
        return Manifest(model="unknown", dimensions=0)


class Index:
    """Opens (and on request creates) the index: under a data folder, or on a Chroma server when given its URL.

    The data folder also holds the exported embedding model in both cases."""

    def __init__(self, *, data_dir: Path, progress: bool = False, server: str = "", embedder: Embedder | None = None) -> None:
        self.data_dir = data_dir
        self.server = server
        self.chroma_dir = data_dir / "chroma"
        self.manifest_path = data_dir / "manifest.json"
        self.embedder = embedder or Embedder(models_dir=data_dir / "models", progress=progress)
        self.where = server or str(data_dir)
        self._client = None
        self._store = None
        self._collection = None
        self._name = COLLECTION

    # --- the manifest and the version, on disk or on the server --------------------------------

    def _pointer(self) -> dict:
        """On a Chroma server: {"current": collection name, "manifest": JSON} ({} before the first ingest)."""
        try:
            found = [c for c in self._chroma().list_collections() if c.name == POINTER]
        except Exception as exc:  # noqa: BLE001 - connection refused, timeouts: chromadb's and httpx's types
            raise self._unavailable(exc) from None
        return dict(found[0].metadata or {}) if found else {}

    def _raw_manifest(self) -> str | None:
        if self.server:
            return self._pointer().get("manifest")
        try:
            return self.manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def exists(self) -> bool:
        if self.server:
            return bool(self._pointer().get("current"))
        return self.manifest_path.exists() and self.chroma_dir.exists()

    def version(self) -> str:
        """Changes whenever an ingest changes the index (a worker compares it to the one it loaded)."""
        pointer = self._pointer() if self.server else {"manifest": self._raw_manifest() or ""}
        return hashlib.sha256(json.dumps(pointer, sort_keys=True).encode()).hexdigest()[:16]

    def read_manifest(self) -> Manifest | None:
        return _manifest(self._raw_manifest())

    def write_manifest(self, manifest: Manifest) -> None:
        """Record how the index was built; on a server this is also the switch to the collection just written."""
        text = json.dumps(manifest.__dict__, indent=2, sort_keys=True)
        if self.server:
            previous = self._pointer().get("current")
            self._chroma().get_or_create_collection(POINTER).modify(metadata={"current": self._name, "manifest": text})
            self._drop_old(keep={self._name, previous})  # the previous one may still be read by a worker
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        partial = self.manifest_path.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(self.manifest_path)

    def begin_update(self) -> None:
        """Before ingest writes: on a server, a new collection holding a copy of the current one (writes go
        there until write_manifest points at it); on disk, nothing (writes go in place)."""
        if not self.server:
            return
        current = self.collection
        self._name = f"{COLLECTION}-{uuid.uuid4().hex[:12]}"
        fresh = self._chroma().create_collection(self._name, metadata={"hnsw:space": "cosine"})
        got = current.get(include=["embeddings", "documents", "metadatas"])
        for start in range(0, len(got["ids"]), COPY_BATCH):
            end = start + COPY_BATCH
            fresh.upsert(ids=got["ids"][start:end], embeddings=got["embeddings"][start:end],
                         documents=got["documents"][start:end], metadatas=got["metadatas"][start:end])
        self._collection, self._store = fresh, None

    def _drop_old(self, *, keep: set) -> None:
        for collection in self._chroma().list_collections():
            if collection.name.startswith(f"{COLLECTION}-") and collection.name not in keep:
                self._chroma().delete_collection(collection.name)

    def check(self) -> Manifest:
        """The manifest of a usable index, or an error naming the command that fixes it."""
        manifest = self.read_manifest()
        if manifest is None or not (self.server or self.chroma_dir.exists()):
            raise MissingIndex(f"No index in {self.where}. Build it with: steady ingest")
        if not manifest.matches_model():
            raise ModelMismatch(
                f"The index in {self.where} was built with {manifest.model} ({manifest.dimensions} dimensions), "
                f"not {model_id()}. Rebuild it with: steady ingest --rebuild"
            )
        return manifest

    def _chroma(self):  # -> chromadb.ClientAPI
        if self._client is None:
            import chromadb

            telemetry_off = chromadb.Settings(anonymized_telemetry=False)
            if self.server:
                parts = urlsplit(self.server)
                self._client = chromadb.HttpClient(host=parts.hostname or "127.0.0.1", port=parts.port or 8000,
                                                   ssl=parts.scheme == "https", settings=telemetry_off)
            else:
                self._client = chromadb.PersistentClient(path=str(self.chroma_dir), settings=telemetry_off)
        return self._client

    def _open(self) -> None:
        from langchain_chroma import Chroma

        try:
            client = self._chroma()
            if self.server:
                self._name = self._pointer().get("current") or f"{COLLECTION}-{uuid.uuid4().hex[:12]}"
            # Writes go straight to the collection, with vectors of the heading-prefixed text;
            # reads go through LangChain's Chroma integration.
            self._collection = client.get_or_create_collection(self._name, metadata={"hnsw:space": "cosine"})
        except Exception as exc:  # noqa: BLE001 - chromadb raises its own types for disk and network trouble
            raise self._unavailable(exc) from None
        self._store = Chroma(collection_name=self._name, embedding_function=self.embedder, client=client)

    def _unavailable(self, exc: Exception) -> IndexUnavailable:
        if self.server:
            return IndexUnavailable(f"Steady can't reach the Chroma server at {self.server} ({type(exc).__name__}). "
                                    "Check that it runs and STEADY_CHROMA_URL is right.")
        reason = "the folder is read-only" if "readonly" in str(exc).replace("-", "") else type(exc).__name__
        return IndexUnavailable(f"Steady can't open its index in {self.chroma_dir} ({reason}). Point STEADY_DATA_DIR "
                                "at a folder you can write to, or run `steady ingest` there.")

    @property
    def store(self):  # -> langchain_chroma.Chroma
        if self._store is None:
            from langchain_chroma import Chroma

            if self._collection is None:
                self._open()
            else:
                self._store = Chroma(collection_name=self._name, embedding_function=self.embedder, client=self._chroma())
        return self._store

    @property
    def collection(self):  # -> chromadb.Collection
        if self._collection is None:
            self._open()
        return self._collection

    def reset(self) -> None:
        """Drop everything indexed (the exported embedding model is kept). On a server, start an empty
        version: the one workers read stays until the rebuilt one is pointed at."""
        if self.server:
            self._name = f"{COLLECTION}-{uuid.uuid4().hex[:12]}"
            self._collection = self._chroma().create_collection(self._name, metadata={"hnsw:space": "cosine"})
            self._store = None
            return
        if self.chroma_dir.exists():
            self.store.delete_collection()
            self._store = self._collection = None
        self.manifest_path.unlink(missing_ok=True)

    def all_chunks(self) -> tuple[list[str], list[str], list[dict]]:
        """Ids, texts and metadata of every indexed chunk."""
        got = self.collection.get(include=["documents", "metadatas"])
        return got["ids"], got["documents"], got["metadatas"]
