"""The crisis classifier: all-MiniLM-L6-v2 fine-tuned end to end on the crisis decision's labelled sets.

Logistic regression over the frozen sentence vectors (the other decisions' method, app/learned.py) sees
a message only through a vector made for similarity, where "I took every pill I had left" and
"I took every vitamin I had left" sit close. Fine-tuning the whole encoder on the same train split
(7,860 crisis and look-alike messages, the earlier rounds, everyday messages, rehearsal lines) lifted dev recall at a 1%
false-alarm rate on dev from 0.74 to 0.89, at 5% from 0.91 to 0.96 (README, "Understanding what people type").

`steady train crisis` fine-tunes with torch (fixed seed, about twenty minutes on two cores) and writes an
int8 ONNX export and its threshold to app/trained/; answering runs that export with onnxruntime, as the
embedder does, so no process that answers imports torch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import cache

import numpy as np

from app.learned import SPECS, TRAINED_DIR, data_hash, everyday_dev_texts, examples, text_of

MODEL = TRAINED_DIR / "crisis-encoder.onnx"
META = TRAINED_DIR / "crisis-encoder.json"
SEED = 13
EPOCHS = 3
BATCH = 32
LEARNING_RATE = 4e-5  # the encoder's; the head learns faster (HEAD_LEARNING_RATE)
HEAD_LEARNING_RATE = 1e-3
WARMUP_STEPS = 50
MAX_TOKENS = 96  # a message and the two before it; longer text is cut, as at training
SCALE = 10.0  # the unit-length sentence vector is scaled before the linear head, so its logits can be sure
EVERYDAY_FALSE_ALARMS = 0.01  # the threshold: the lowest at which at most this share of everyday dev messages is flagged
_LOADING = threading.Lock()
_LOADED = None  # (session, tokenizer) once loaded


@cache
def meta() -> dict:
    return json.loads(META.read_text(encoding="utf-8"))


def _session():
    """The int8 export and the tokenizer, loaded once per process (concurrent first turns build one)."""
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    with _LOADING:
        if _LOADED is None:
            from ingest.embed import bundled_tokenizer, onnx_session

            # No padding: texts are run one at a time (see probabilities).
            _LOADED = onnx_session(MODEL), bundled_tokenizer(max_tokens=MAX_TOKENS)
        return _LOADED


def _forget_session() -> None:
    global _LOADED
    with _LOADING:
        _LOADED = None


def probabilities(texts: list[str]) -> np.ndarray:
    """The probability that each text is a crisis.

    One text per call: the int8 export quantizes its activations per call, so a text padded beside a
    longer one scored differently (0.90 alone, 0.95 beside a longer one); alone, a text always scores the same."""
    session, tokenizer = _session()
    logits = []
    for encoding in map(tokenizer.encode, texts):
        feed = {"input_ids": np.array([encoding.ids], dtype=np.int64),
                "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([encoding.type_ids], dtype=np.int64)}
        logits.append(float(session.run(None, feed)[0].reshape(-1)[0]))
    return 1.0 / (1.0 + np.exp(-np.asarray(logits)))


# --- training (steady train crisis) -------------------------------------------------------------


def _classifier():
    """The bundled encoder with mean pooling and a linear head: one logit per text."""
    import torch
    from transformers import AutoModel

    from ingest.embed import weights_dir

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(weights_dir()))
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 - traced for ONNX too
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return self.head(torch.nn.functional.normalize(pooled, dim=-1) * SCALE).squeeze(-1)

    return Classifier()


def train(*, say: Callable[[str], None] = print) -> dict:
    """Fine-tune on train, choose the threshold on the everyday dev messages, report dev, export int8 ONNX.
    The test split is not read here."""
    import random
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoTokenizer
    from transformers.utils import logging as transformers_logging

    from ingest.embed import weights_dir

    transformers_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", module=r"(torch|transformers)\.")
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    spec = SPECS["crisis"]
    rows, dev = examples(spec, "train"), examples(spec, "dev")
    texts = [text_of(r)[:2000] for r in rows]
    labels = [float(r["label"] == "crisis") for r in rows]
    tokenizer = AutoTokenizer.from_pretrained(str(weights_dir()))
    model = _classifier()
    optimiser = torch.optim.AdamW([{"params": model.encoder.parameters(), "lr": LEARNING_RATE},
                                   {"params": model.head.parameters(), "lr": HEAD_LEARNING_RATE}], weight_decay=0.01)
    steps = EPOCHS * (len(texts) // BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, step / WARMUP_STEPS) * max(0.0, 1 - step / steps))
    # Crises are about one message in five: weighted up so a miss costs as much as the false alarms it saves.
    weight = torch.tensor((len(labels) - sum(labels)) / sum(labels))
    for epoch in range(EPOCHS):
        order = list(range(len(texts)))
        random.shuffle(order)
        for start in range(0, len(order) - BATCH + 1, BATCH):
            chunk = order[start:start + BATCH]
            batch = tokenizer([texts[i] for i in chunk], padding=True, truncation=True, max_length=MAX_TOKENS,
                              return_tensors="pt")
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                model(**batch), torch.tensor([labels[i] for i in chunk]), pos_weight=weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        say(f"crisis encoder: epoch {epoch + 1} of {EPOCHS} done")
    _export(model, tokenizer, quantize=lambda source, target: quantize_dynamic(
        str(source), str(target), weight_type=QuantType.QInt8))
    _forget_session()
    threshold, figures = calibrate(dev)
    found = {"data_hash": data_hash(spec), "seed": SEED, "epochs": EPOCHS, "threshold": round(threshold, 6),
             "train": len(rows), "dev": len(dev), "dev_figures": figures}
    META.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    meta.cache_clear()
    say(f"crisis: threshold {threshold:.3f}, dev {figures}")
    return found


def calibrate(dev: list[dict]) -> tuple[float, dict]:
    """The threshold and the dev figures, from the int8 export (the model that answers)."""
    everyday = probabilities(everyday_dev_texts())
    threshold = float(np.quantile(everyday, 1 - EVERYDAY_FALSE_ALARMS)) + 1e-6
    p = probabilities([text_of(r)[:2000] for r in dev])
    truth = np.array([r["label"] == "crisis" for r in dev])
    return threshold, {"recall": round(float((p[truth] >= threshold).mean()), 3),
                       "false_positive_rate": round(float((p[~truth] >= threshold).mean()), 3),
                       "everyday_false_alarms": round(float((everyday >= threshold).mean()), 3), "n": len(dev)}


def _export(model, tokenizer, *, quantize: Callable) -> None:
    import tempfile
    from pathlib import Path

    import torch

    model.eval()
    sample = tokenizer(["a short sample", "another sample sentence"], padding=True, return_tensors="pt")
    names = ("input_ids", "attention_mask", "token_type_ids")
    with tempfile.TemporaryDirectory() as scratch, torch.no_grad():
        full = Path(scratch) / "crisis.onnx"
        torch.onnx.export(model, tuple(sample[n] for n in names), str(full), input_names=list(names),
                          output_names=["logit"], dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                                                "logit": {0: "batch"}},
                          opset_version=17, dynamo=False)
        partial = MODEL.with_suffix(".partial")
        quantize(full, partial)
        partial.replace(MODEL)
