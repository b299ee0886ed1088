"""Read guidance files (Markdown or plain text) into documents with front matter."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

SUFFIXES = (".md", ".markdown", ".txt")
HINTS_FOLDER = "search-hints"
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
# Zero-width characters and C0/C1 controls other than tab and newline: pasted web text carries them.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Sentences addressed to an AI model rather than to a reader ("ignore your previous instructions..."):
# guidance never needs them, and a model shown them might obey. They are left out at ingest.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(instructions?|rules|prompts?|guidelines)\b"
    r"|\bsystem prompt\b|\bas an ai\b|\bnew instructions?\s*:"
    r"|\b(reveal|print|repeat|output)\b[^.!?\n]{0,20}\b(prompt|instructions)\b"
    r"|\byou are now\b|\b(assistant|chatbot|language model|llm)\s*(must|should|will)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Hint:
    """Questions a person might ask that one passage answers (see corpus/search-hints/)."""

    section: str
    anchor: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    kind: str
    source: str
    path: Path
    text: str  # the body, front matter removed
    hints: tuple[Hint, ...] = ()
    left_out: int = 0  # sentences left out because they read as instructions to an AI

    @property
    def content_hash(self) -> str:
        hints = "\n".join(f"{h.section}|{h.anchor}|{'|'.join(h.questions)}" for h in self.hints)
        return hashlib.sha256(f"{self.title}\n{self.text}\n{hints}".encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str


def clean(text: str) -> str:
    """Normalise what copy-paste leaves behind, without touching the words."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub("", text.replace("\u00a0", " "))
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def without_instructions(text: str) -> tuple[str, int]:
    """The text minus sentences that read as instructions to an AI model, and how many there were."""
    dropped = 0
    lines = []
    for line in text.split("\n"):
        parts = _SENTENCE_END.split(line)
        kept = [p for p in parts if not _INSTRUCTION.search(p)]
        dropped += len(parts) - len(kept)
        if kept or not line.strip():
            lines.append(" ".join(kept))
    return "\n".join(lines), dropped


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "document"


def load_file(path: Path) -> Document:
    """Read one file; raises ValueError with a message a user can act on."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8 and ingest again") from None
    text = clean(text)
    meta: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"front matter is not valid YAML ({exc.__class__.__name__})") from None
        if not isinstance(meta, dict):
            raise ValueError("front matter must be a mapping of keys to values")
        text = text[match.end():].lstrip("\n")
    text, left_out = without_instructions(text)
    if not text.strip():
        raise ValueError("empty: no text to ingest")
    heading = re.search(r"^# (.+)$", text, re.MULTILINE)
    title = str(meta.get("title") or (heading.group(1) if heading else path.stem.replace("-", " ").title()))
    doc_id = slug(str(meta.get("id") or path.stem))
    return Document(
        doc_id=doc_id,
        title=title.strip(),
        kind=str(meta.get("kind") or "note"),
        source=str(meta.get("source") or path.name),
        path=path,
        text=text,
        hints=load_hints(path.parent / HINTS_FOLDER / f"{doc_id}.yaml"),
        left_out=left_out,
    )


def load_hints(path: Path) -> tuple[Hint, ...]:
    """A document's search hints, if it has a hints file beside it."""
    if not path.is_file():
        return ()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return tuple(
            Hint(str(p["section"]), str(p.get("anchor", "")), tuple(str(q) for q in p.get("questions", [])))
            for p in raw.get("passages", [])
        )
    except (yaml.YAMLError, UnicodeDecodeError, AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"search hints in {path.name} are unreadable ({exc.__class__.__name__})") from None


def load_question_hints(path: Path) -> dict[str, tuple[Hint, ...]]:
    """Labelled questions (evals/ask/train.yaml: q, kind, expect {doc, sections}) as search hints by
    document: each in-scope question is one more way of asking for its passages. Follow-ups are left
    out, since they only make sense after another question."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    hints: dict[str, list[Hint]] = {}
    for row in rows:
        expect = row.get("expect")
        if row.get("kind") in ("direct", "new_topic") and isinstance(expect, dict):
            for section in expect["sections"]:
                hints.setdefault(str(expect["doc"]), []).append(Hint(str(section), "", (str(row["q"]),)))
    return {doc_id: tuple(found) for doc_id, found in hints.items()}


def load_corpus(folders: list[Path]) -> tuple[list[Document], list[Problem]]:
    """Every readable guidance file under the folders; unreadable ones become problems, not failures."""
    documents: dict[str, Document] = {}
    problems: list[Problem] = []
    for folder in folders:
        if not folder.is_dir():
            problems.append(Problem(folder, "folder not found"))
            continue
        paths = (p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
        for path in sorted(p for p in paths if HINTS_FOLDER not in p.parts):
            try:
                doc = load_file(path)
            except (OSError, ValueError) as exc:
                problems.append(Problem(path, f"skipped, {exc}"))
                continue
            if doc.doc_id in documents:
                other = documents[doc.doc_id].path
                problems.append(Problem(path, f"id '{doc.doc_id}' is already used by {other}; give it another id"))
                continue
            documents[doc.doc_id] = doc
            if doc.left_out:
                problems.append(Problem(path, f"left out {doc.left_out} sentence(s) that read as instructions "
                                              "to an AI model; the rest was ingested"))
    return list(documents.values()), problems
