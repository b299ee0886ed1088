"""Read guidance files (Markdown or plain text) into documents with front matter."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

SUFFIXES = (".md", ".markdown", ".txt")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
# Zero-width characters and C0/C1 controls other than tab and newline: pasted web text carries them.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    kind: str
    source: str
    path: Path
    text: str  # the body, front matter removed

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()


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
    if not text.strip():
        raise ValueError("empty: no text to ingest")
    heading = re.search(r"^# (.+)$", text, re.MULTILINE)
    title = str(meta.get("title") or (heading.group(1) if heading else path.stem.replace("-", " ").title()))
    return Document(
        doc_id=slug(str(meta.get("id") or path.stem)),
        title=title.strip(),
        kind=str(meta.get("kind") or "note"),
        source=str(meta.get("source") or path.name),
        path=path,
        text=text,
    )


def load_corpus(folders: list[Path]) -> tuple[list[Document], list[Problem]]:
    """Every readable guidance file under the folders; unreadable ones become problems, not failures."""
    documents: dict[str, Document] = {}
    problems: list[Problem] = []
    for folder in folders:
        if not folder.is_dir():
            problems.append(Problem(folder, "folder not found"))
            continue
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
            try:
                doc = load_file(path)
            except (OSError, ValueError) as exc:
                problems.append(Problem(path, str(exc)))
                continue
            if doc.doc_id in documents:
                other = documents[doc.doc_id].path
                problems.append(Problem(path, f"id '{doc.doc_id}' is already used by {other}; give it another id"))
                continue
            documents[doc.doc_id] = doc
    return list(documents.values()), problems
