"""Training messages that are near copies of held-out ones.

Helpers writing apart converge on the same sentences, so a train file can hold a paraphrase of a dev or test
message, and the held-out figure then measures memory. A pair is a near copy when the MiniLM vectors of the
two texts have a cosine of at least NEAR (at 0.8 the pairs read as one sentence reworded; below it, as two
messages on one topic). `python -m evals.near_copies` lists them for Ask's files and the crisis check's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

from app import learned

NEAR = 0.8
ASK = Path(__file__).parent / "ask"
ASK_TRAIN = ("train.yaml", *learned.ASK_EXTRA)
ASK_HELD_OUT = ("dev.yaml", "dev2.yaml", "test.yaml", "test2.yaml")


def _vectors(texts: list[str], *, embedder) -> np.ndarray:
    return np.asarray(embedder.embed_documents(texts), dtype=np.float32).reshape(len(texts), -1)


def near_copies(train: list[str], held_out: list[str], *, embedder, near: float = NEAR) -> list[tuple[str, str, float]]:
    """(train text, the held-out text it copies, cosine) for every train text with a held-out one at least `near`."""
    if not train or not held_out:
        return []
    similarity = _vectors(train, embedder=embedder) @ _vectors(held_out, embedder=embedder).T
    best = similarity.argmax(axis=1)
    return [(train[i], held_out[j], float(similarity[i, j])) for i, j in enumerate(best) if similarity[i, j] >= near]


def _rows(folder: Path, names: tuple[str, ...]) -> list[dict]:
    """The rows of the labelled files that exist."""
    return [row for name in names if (folder / name).exists()
            for row in yaml.safe_load((folder / name).read_text(encoding="utf-8")) or []]


def ask_questions(names: tuple[str, ...]) -> list[str]:
    """The questions of Ask's labelled files (each row's own question)."""
    return [str(row["q"]) for row in _rows(ASK, names)]


CRISIS = Path(__file__).parent / "crisis" / "learn"
CRISIS_HELD_OUT = ("test.yaml", "test2.yaml", "test3.yaml")


def crisis_texts(*, held_out: bool) -> list[str]:
    """What the crisis check reads of each message (with its context): its training set or its test splits."""
    rows = _rows(CRISIS, CRISIS_HELD_OUT) if held_out else learned.examples(learned.SPECS["crisis"], "train")
    return [learned.text_of(row) for row in rows]


def main() -> int:
    from app.settings import settings
    from ingest.embed import Embedder

    embedder = Embedder(models_dir=settings().data_dir / "models")
    found = (near_copies(ask_questions(ASK_TRAIN), ask_questions(ASK_HELD_OUT), embedder=embedder)
             + near_copies(crisis_texts(held_out=False), crisis_texts(held_out=True), embedder=embedder))
    for copy, original, cosine in found:
        print(f"{cosine:.2f}  {copy!r}  ~  {original!r}")
    print(f"{len(found)} near copies", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
