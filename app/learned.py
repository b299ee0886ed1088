"""Small learned decisions over the MiniLM vectors Steady already computes for every message.

Each decision (intent, the yes/no/unsure of a free answer, the eleven pressures, in/out of the
guidance's domain, which section answers an Ask question, the rehearsal rubric) is a logistic
regression trained from a labelled file set
(`evals/understand/<decision>/train.yaml`, tuned on `dev.yaml`, reported on `test.yaml`, which is
never used to choose anything). `steady train` rebuilds them with a fixed seed and records the data's
hash; the weights are kept as plain arrays in `app/trained/` and applied with numpy, so answering
never imports scikit-learn. Rules stay only where text has structure (app/quantities.py). The crisis
decision's labelled sets are specified here too; its classifier is app/crisis_encoder.py's fine-tuned encoder.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from app.config import EVALS_DIR, REPO_ROOT

TRAINED_DIR = REPO_ROOT / "app" / "trained"
SEED = 13
C_GRID = (1.0, 4.0, 16.0, 64.0)  # chosen per decision on its dev split
HASH_DIMS = 2**14  # hashed character n-grams: typos and key words the sentence vector smooths over
NGRAMS = (2, 5)
CHAR_WEIGHT = 1.0


def char_grams(text: str, side: str = "") -> np.ndarray:
    """Hashed character 2-5-grams of each word (padded with spaces), l2-normalised; crc32 so training
    and answering hash alike in every process. With a side, each gram also counts paired with it."""
    counts: dict[int, float] = {}
    for word in text.lower().split():
        padded = f" {word} "
        for n in range(NGRAMS[0], NGRAMS[1] + 1):
            for i in range(max(1, len(padded) - n + 1)):
                gram = padded[i:i + n]
                for key in (gram, f"{side}|{gram}") if side else (gram,):
                    h = zlib.crc32(key.encode()) % HASH_DIMS
                    counts[h] = counts.get(h, 0.0) + 1.0
    vector = np.zeros(HASH_DIMS, dtype=np.float32)
    if counts:
        keys = np.fromiter(counts, dtype=np.int64)
        vector[keys] = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32))  # sublinear counts
        vector /= np.linalg.norm(vector)
    return vector * CHAR_WEIGHT


@dataclass(frozen=True)
class Spec:
    """One decision: where its labels live and what, besides the text, it sees."""

    name: str
    folder: Path
    multi: bool = False  # several labels at once (pressures)
    side: str = ""  # a field that is one-hot encoded beside the text ("context", "question")
    sides: tuple[str, ...] = ()
    chars: bool = True  # hashed character n-grams beside the sentence vector (measured per decision on dev)
    extra_train: tuple[str | Path, ...] = ()  # more labelled files (in the folder) that join the train split
    # How a row of another set becomes a row of this decision ({text, label}, or None to leave it out):
    # `read` for the decision's own splits, `read_extra` for the extra train files.
    read: Callable[[dict], dict | None] | None = None
    read_extra: Callable[[dict], dict | None] | None = None


def _crisis_or_none(row: dict) -> dict:
    return {**row, "text": row.get("text", row.get("q")), "label": "crisis" if row.get("label") == "crisis" else "none"}


# evals/ask rows: q, kind (direct | follow_up | new_topic | off_topic | near_domain), previous, facets.
def _ask_scope(row: dict) -> dict | None:
    """In or out of the guidance's domain; a follow-up alone ("what if I'm junior?") is neither."""
    if row["kind"] == "follow_up":
        return None
    return {"text": row["q"], "label": "out" if row["kind"] in ("off_topic", "near_domain") else "in"}


def _ask_leans(row: dict) -> dict:
    """Does the question lean on the one before it, or stand alone?"""
    return {"text": row["q"], "label": "leans" if row["kind"] == "follow_up" else "alone"}


RUBRIC = ("data", "impact", "solutions", "tone", "openness", "ask")  # app/rubric.py's criteria


def _rubric(criterion: str) -> Callable[[dict], dict]:
    """evals/rehearse/lines rows (text, beat, scores) as one criterion's 0 / 1 / 2."""
    return lambda row: {"text": row["text"], "label": str(row["scores"][criterion])}


CASE_ITEMS = ("hours", "area", "metric", "wellbeing", "defer", "defer_until", "delegate", "delegate_to", "freed", "tool")


def _case_answer(row: dict) -> dict:
    """evals/rehearse/case rows (item, answer, expect) as: does the answer give a value (however implausible),
    decline ("skip"), or not answer at all (a feeling, a health remark, a question back)?"""
    expect = row["expect"]
    label = expect if expect in ("skip", "not_an_answer") else "answer"
    return {"text": row["answer"], "item": row["item"], "label": label}


def _ask_facets(row: dict) -> dict | None:
    return {"text": row["q"], "labels": list(row.get("facets") or [])} if row.get("facets") else None


def section_label(doc_id: str, section: str) -> str:
    return f"{doc_id}::{section}"


def _ask_section(row: dict) -> dict | None:
    """The section that answers an in-scope question; a follow-up is read joined to the question before it,
    as Ask retrieves it."""
    if row.get("expect") == "out":
        return None
    text = f"{row['previous']} {row['q']}" if row["kind"] == "follow_up" and row.get("previous") else row["q"]
    return {"text": text, "label": section_label(row["expect"]["doc"], row["expect"]["sections"][0])}


def _hint_rows(hints: dict) -> list[dict]:
    """A search-hints file (corpus/search-hints/) as direct questions of its passages' sections."""
    return [{"q": q, "kind": "direct", "expect": {"doc": hints["doc"], "sections": [p["section"]]}}
            for p in hints["passages"] for q in p["questions"]]


ASK_EXTRA = ("train2.yaml", "train3.yaml")  # more of Ask's train questions (evals/ask/), by other helpers
HINTS = tuple(sorted((REPO_ROOT / "corpus" / "search-hints").glob("*.yaml")))  # every one an in-scope question

SPECS = {
    # train2: questions about the manager conversation and burnout against requests to rehearse or check in.
    "intent": Spec("intent", EVALS_DIR / "understand" / "intent", side="context", sides=(
        "start", "after_answer", "checkin_question", "checkin_result", "case_question", "roleplay"),
        extra_train=("train2.yaml",)),
    "answer": Spec("answer", EVALS_DIR / "understand" / "answer", side="question",
                   sides=("follows_you", "lasted", "confirm")),
    # Character n-grams lost here (dev top-3 recall 0.85 → 0.78): a pressure is a meaning, not a word.
    "pressures": Spec("pressures", EVALS_DIR / "understand" / "pressures", multi=True, chars=False),
    # Ask's own questions (evals/ask/train.yaml) teach it near-domain technical questions are out.
    "domain": Spec("domain", EVALS_DIR / "understand" / "domain",
                   extra_train=("../../ask/train.yaml", *(f"../../ask/{name}" for name in ASK_EXTRA), *HINTS),
                   read_extra=_ask_scope),
    "leans": Spec("leans", EVALS_DIR / "ask", extra_train=ASK_EXTRA, read=_ask_leans, read_extra=_ask_leans),
    "facets": Spec("facets", EVALS_DIR / "ask", multi=True, extra_train=ASK_EXTRA, read=_ask_facets,
                   read_extra=_ask_facets),
    # Which section answers a question: Ask's questions and the search hints' (corpus/search-hints/).
    "sections": Spec("sections", EVALS_DIR / "ask", read=_ask_section, read_extra=_ask_section,
                     extra_train=(*ASK_EXTRA, *HINTS)),
    # Whether a rehearsal case answer answers its question (app/case.py), per question.
    "case_answer": Spec("case_answer", EVALS_DIR / "rehearse" / "case", side="item", sides=CASE_ITEMS,
                        extra_train=("train2.yaml",), read=_case_answer, read_extra=_case_answer),
    # The rehearsal rubric, one decision per criterion, from hand-labelled lines.
    **{f"rubric_{c}": Spec(f"rubric_{c}", EVALS_DIR / "rehearse" / "lines", read=_rubric(c)) for c in RUBRIC},
    # The earlier hand-made rounds (evals/crisis/*.yaml: other languages, health) train too, and so do
    # the everyday messages of the other decisions' train splits (answers, numbers, recipes, small talk:
    # without them anything that isn't work talk looked like a crisis), and the rehearsal's labelled lines (hedged,
    # apologetic asks for room to breathe are the register a rehearsal is typed in). The learn/ dev and test splits
    # stay unseen.
    # Its labelled sets only: the crisis classifier is the fine-tuned encoder of app/crisis_encoder.py.
    "crisis": Spec("crisis", EVALS_DIR / "crisis" / "learn", extra_train=(
        "more.yaml", "more2.yaml", "more3.yaml", "../../ask/train.yaml", "../../rehearse/lines/train.yaml",
        "../messages.yaml", "../blind.yaml", "../blind5.yaml", "../blind6.yaml", "../blind7.yaml", "../blind8.yaml",
        *(f"../../understand/{d}/train.yaml" for d in ("intent", "answer", "durations", "domain", "pressures"))),
        read_extra=_crisis_or_none),
}


def examples(spec: Spec, split: str) -> list[dict]:
    import yaml

    def load(name: str, read: Callable[[dict], dict | None] | None) -> list[dict]:
        raw = yaml.safe_load((spec.folder / name).read_text(encoding="utf-8")) or []
        raw = _hint_rows(raw) if isinstance(raw, dict) else raw
        return [r for r in map(read, raw) if r is not None] if read else raw

    rows = load(f"{split}.yaml", spec.read)
    if split == "train":
        for extra in spec.extra_train:
            rows += load(extra, spec.read_extra)
    for row in rows:
        row["label"] = row.get("labels", []) if spec.multi else str(row["label"])
        row["text"] = str(row["text"])
    return rows


def text_of(row: dict) -> str:
    """The text a decision reads: for a message that follows others (crisis context), all of them."""
    return " ".join([*(str(c) for c in row.get("context", []) if isinstance(row.get("context"), list)), row["text"]])


def data_hash(spec: Spec) -> str:
    digest = hashlib.sha256()
    for name in ("train.yaml", "dev.yaml", *spec.extra_train):
        digest.update((spec.folder / name).read_bytes())
    return digest.hexdigest()[:16]


class Model:
    """A trained decision: label probabilities for a text vector (and its side value)."""

    def __init__(self, *, spec: Spec, weights: np.ndarray, bias: np.ndarray, labels: list[str], meta: dict) -> None:
        self.spec = spec
        self.weights = weights
        self.bias = bias
        self.labels = labels
        self.meta = meta

    def features(self, vectors: np.ndarray, texts: list[str], sides: list[str] | None = None) -> np.ndarray:
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        grams = (np.vstack([char_grams(t, (sides or [""] * len(texts))[i]) for i, t in enumerate(texts)])
                 if self.spec.chars else np.zeros((len(vectors), 0), dtype=np.float32))
        if not self.spec.side:
            return np.hstack([vectors, grams])
        onehot = np.zeros((len(vectors), len(self.spec.sides)), dtype=np.float32)
        for i, side in enumerate(sides or []):
            if side in self.spec.sides:
                onehot[i, self.spec.sides.index(side)] = 1.0
        # The side's own weights plus text-by-side weights: "ok" is an answer in a role-play, small talk elsewhere.
        crossed = (vectors[:, None, :] * onehot[:, :, None]).reshape(len(vectors), -1)
        return np.hstack([vectors, onehot, crossed, grams])

    def probabilities(self, vectors: np.ndarray, texts: list[str], sides: list[str] | None = None) -> np.ndarray:
        return self.probabilities_from(self.features(vectors, texts, sides))

    def probabilities_from(self, features: np.ndarray) -> np.ndarray:
        """From features already built (decisions with the same spec shape can share them)."""
        logits = features @ self.weights.T + self.bias
        if self.spec.multi or len(self.labels) == 2 and self.weights.shape[0] == 1:
            return 1.0 / (1.0 + np.exp(-logits))
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def probability_of(self, label: str, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        """One label's probability for each text (binary models keep one logit, for the second label)."""
        probs = self.probabilities(vectors, texts)
        if probs.shape[1] == 1:
            return probs[:, 0] if label == self.labels[1] else 1.0 - probs[:, 0]
        return probs[:, self.labels.index(label)]

    def scores(self, vector, text: str, side: str | None = None) -> dict[str, float]:
        """{label: probability} for one text and its vector."""
        probs = self.probabilities(np.asarray([vector]), [text], [side] if side else None)[0]
        if len(self.labels) == 2 and len(probs) == 1:  # binary: one logit, the second label's probability
            return {self.labels[0]: float(1 - probs[0]), self.labels[1]: float(probs[0])}
        return {label: float(p) for label, p in zip(self.labels, probs, strict=True)}

    def save(self) -> None:
        TRAINED_DIR.mkdir(exist_ok=True)
        np.savez_compressed(TRAINED_DIR / f"{self.spec.name}.npz", weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float32))
        (TRAINED_DIR / f"{self.spec.name}.json").write_text(
            json.dumps({"labels": self.labels, **self.meta}, indent=2) + "\n", encoding="utf-8")


@cache
def model(name: str) -> Model:
    """The trained decision, loaded once per process."""
    spec = SPECS[name]
    meta = json.loads((TRAINED_DIR / f"{name}.json").read_text(encoding="utf-8"))
    arrays = np.load(TRAINED_DIR / f"{name}.npz")
    return Model(spec=spec, weights=arrays["weights"], bias=arrays["bias"], labels=meta.pop("labels"), meta=meta)


# --- training (steady train) -----------------------------------------------------------------------

def _vectors(embedder, rows: list[dict]) -> np.ndarray:
    return np.asarray(embedder.embed_documents([text_of(r)[:2000] for r in rows]), dtype=np.float32)


def _fit(spec: Spec, x: np.ndarray, rows: list[dict], labels: list[str], c: float):
    from sklearn.linear_model import LogisticRegression

    if spec.multi:
        weights, bias = [], []
        for label in labels:
            y = np.array([label in r["label"] for r in rows], dtype=int)
            clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=SEED).fit(x, y)
            weights.append(clf.coef_[0])
            bias.append(clf.intercept_[0])
        return np.array(weights), np.array(bias)
    y = np.array([labels.index(r["label"]) for r in rows])
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=SEED).fit(x, y)
    return clf.coef_, clf.intercept_


def score(spec: Spec, trained: Model, x_rows: tuple[np.ndarray, list[dict]]) -> dict:
    """The decision's figures on a split: accuracy and macro-F1, or top-3 recall for pressures."""
    x, rows = x_rows
    probs = trained.probabilities(x, [text_of(r) for r in rows], [r.get(spec.side, "") for r in rows] if spec.side else None)
    if spec.multi:
        hits = total = exact_none = nones = 0
        for p, r in zip(probs, rows, strict=True):
            top = [trained.labels[i] for i in np.argsort(-p)[:3] if p[i] >= 0.5]
            hits += len(set(top) & set(r["label"]))
            total += len(r["label"])
            if not r["label"]:
                nones += 1
                exact_none += not top
        return {"top3_recall": round(hits / max(total, 1), 3), "none_right": round(exact_none / max(nones, 1), 3),
                "n": len(rows)}
    if probs.shape[1] == 1:
        predicted = [trained.labels[int(p[0] >= 0.5)] for p in probs]
    else:
        predicted = [trained.labels[int(i)] for i in probs.argmax(axis=1)]
    truth = [r["label"] for r in rows]
    f1s = []
    for label in trained.labels:
        tp = sum(p == label == t for p, t in zip(predicted, truth, strict=True))
        fp = sum(p == label != t for p, t in zip(predicted, truth, strict=True))
        fn = sum(t == label != p for p, t in zip(predicted, truth, strict=True))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    accuracy = sum(p == t for p, t in zip(predicted, truth, strict=True)) / max(len(truth), 1)
    return {"accuracy": round(accuracy, 3), "macro_f1": round(sum(f1s) / len(f1s), 3), "n": len(rows)}


def train(name: str, *, embedder, say=print) -> Model:
    """Fit on train, choose C on dev, refit on train+dev, save. The test split is not read here."""
    spec = SPECS[name]
    train_rows, dev_rows = examples(spec, "train"), examples(spec, "dev")
    labels = sorted({lab for r in train_rows for lab in (r["label"] if spec.multi else [r["label"]])})
    x_train, x_dev = _vectors(embedder, train_rows), _vectors(embedder, dev_rows)
    stub = Model(spec=spec, weights=np.zeros((1, 1)), bias=np.zeros(1), labels=labels, meta={})
    f_train = stub.features(x_train, [text_of(r) for r in train_rows],
                            [r.get(spec.side, "") for r in train_rows] if spec.side else None)
    key = "top3_recall" if spec.multi else "macro_f1"
    best = None
    for c in C_GRID:
        weights, bias = _fit(spec, f_train, train_rows, labels, c)
        figures = score(spec, Model(spec=spec, weights=weights, bias=bias, labels=labels, meta={}), (x_dev, dev_rows))
        if best is None or figures[key] > best[1][key]:
            best = (c, figures)
    c, dev_figures = best
    rows = train_rows + dev_rows
    features = stub.features(np.vstack([x_train, x_dev]), [text_of(r) for r in rows],
                             [r.get(spec.side, "") for r in rows] if spec.side else None)
    weights, bias = _fit(spec, features, rows, labels, c)
    trained = Model(spec=spec, weights=weights, bias=bias, labels=labels, meta={
        "data_hash": data_hash(spec), "seed": SEED, "C": c, "train": len(train_rows), "dev": len(dev_rows),
        "dev_figures": dev_figures})
    trained.save()
    model.cache_clear()
    say(f"{name}: C={c}, dev {dev_figures}")
    return trained


def everyday_dev_texts() -> list[str]:
    """The everyday messages of the other decisions' dev splits and Ask's dev questions (none of them a crisis):
    what a crisis threshold is chosen on."""
    import yaml

    texts = [str(r["text"]) for name in ("intent", "answer", "durations", "domain", "pressures")
             for r in yaml.safe_load((EVALS_DIR / "understand" / name / "dev.yaml").read_text(encoding="utf-8"))]
    return texts + [str(r["q"]) for r in yaml.safe_load((EVALS_DIR / "ask" / "dev.yaml").read_text(encoding="utf-8"))]


def test_figures(name: str, *, embedder) -> dict:
    """The decision's figures on its held-out test split (for steady eval)."""
    spec = SPECS[name]
    rows = examples(spec, "test")
    return score(spec, model(name), (_vectors(embedder, rows), rows))
