"""Where Steady's own files are, and the privacy switches every layer must see before it loads
(what an operator configures is app/settings.py)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_CORPUS = REPO_ROOT / "corpus"
PROMPTS_DIR = REPO_ROOT / "prompts"
CARDS = PROMPTS_DIR / "cards"  # Ask's answer cards, embedded at ingest
EVALS_DIR = REPO_ROOT / "evals"
# Ask's labelled train questions: at ingest, more ways of asking for each passage (dev and test stay unseen).
ASK_QUESTIONS = EVALS_DIR / "ask" / "train.yaml"

# Set before chromadb, huggingface or gradio are imported: nothing Steady runs may call home.
PRIVACY_ENV = {
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "GRADIO_RUN_HISTORY": "False",  # runs (the person's words) kept in the browser's localStorage
    "TOKENIZERS_PARALLELISM": "false",
    # onnxruntime (1.32+) queues and uploads usage events unless told not to.
    "ORT_DISABLE_TELEMETRY": "1",
}


def apply_privacy_env() -> None:
    for key, value in PRIVACY_ENV.items():
        os.environ[key] = value
    # Not privacy, but it must be set as early: OpenBLAS threads left spinning after each small
    # matrix product slowed the next query embedding from ~7 to ~18 ms on 2 cores.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


apply_privacy_env()
