"""Split documents by heading, then by size, keeping the heading path as each chunk's section.

Each chunk also gets probes: its sentences and the search-hint questions written for it. Probes
are embedded as extra vectors pointing at their chunk, so a short question can match one
sentence or one phrasing of the question instead of a whole paragraph's average.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from ingest.load import Document

CHUNK_SIZE = 2000  # most sections stay whole; probes carry the sentence-level matching
CHUNK_OVERLAP = 200
MIN_SENTENCE_WORDS = 4
_HEADINGS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n+")
INTRODUCTION = "Introduction"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


def sentences(text: str) -> list[str]:
    """A passage's sentences in order, Markdown emphasis and list markers removed."""
    return [plain(s).removeprefix("- ").removeprefix("> ") for s in SENTENCE_END.split(text) if s.strip()]


@dataclass(frozen=True)
class Probe:
    probe_id: str
    parent: str
    doc_id: str
    text: str
    role: str  # "sentence" (verbatim from the passage) or "hint" (a question it answers)
    says: str = ""  # a sentence's role in its passage (ingest/roles.py): only advice and facts are quoted

    @property
    def metadata(self) -> dict[str, str]:
        return {"kind": "probe", "role": self.role, "parent": self.parent, "doc_id": self.doc_id,
                **({"says": self.says} if self.says else {})}


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    source: str
    section: str
    text: str
    hints: tuple[str, ...] = field(default=())

    @property
    def embed_text(self) -> str:
        """What is embedded: the heading path gives a short passage its context."""
        return f"{self.section}\n\n{self.text}"

    @property
    def metadata(self) -> dict[str, str]:
        return {"kind": "chunk", "doc_id": self.doc_id, "title": self.title, "source": self.source,
                "section": self.section, "hints": "\n".join(self.hints)}

    def probes(self) -> list[Probe]:
        from ingest.roles import roles

        own = roles(self.text)
        kinds = {s: "sentence" for s in own} | {h: "hint" for h in self.hints if h not in own}
        return [
            Probe(f"{self.chunk_id}#{_digest(text)}", self.chunk_id, self.doc_id, text, kind, own.get(text, ""))
            for text, kind in kinds.items()
            if len(text.split()) >= MIN_SENTENCE_WORDS
        ]


def split_document(doc: Document, *, chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> list[Chunk]:
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    by_heading = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADINGS, strip_headers=True)
    by_size = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
        keep_separator="end",
    )
    chunks: list[Chunk] = []
    for part in by_heading.split_text(doc.text):
        # The H1 is the title, shown separately; the section is the path below it.
        path = [part.metadata[key] for _, key in _HEADINGS[1:] if key in part.metadata]
        section = " > ".join(path) or INTRODUCTION
        for piece in by_size.split_text(part.page_content):
            text = re.sub(r"[ \t]+\n", "\n", piece).strip()  # the header splitter's "  \n" line joins
            chunk_id = f"{doc.doc_id}:{_digest(doc.doc_id, section, text)}"
            # The same words twice under one heading are one passage.
            if text and all(c.chunk_id != chunk_id for c in chunks):
                chunks.append(Chunk(chunk_id, doc.doc_id, doc.title, doc.source, section, text))
    return _attach_hints(doc, chunks)


def _attach_hints(doc: Document, chunks: list[Chunk]) -> list[Chunk]:
    """Give each chunk the hint questions written for its passage (matched by section and anchor)."""
    attached: dict[str, list[str]] = {c.chunk_id: [] for c in chunks}
    for hint in doc.hints:
        in_section = [c for c in chunks if c.section == hint.section]
        anchored = [c for c in in_section if plain(hint.anchor) in plain(c.text)] if hint.anchor else []
        for chunk in anchored[:1] or in_section:
            attached[chunk.chunk_id].extend(hint.questions)
    return [Chunk(**{**c.__dict__, "hints": tuple(dict.fromkeys(attached[c.chunk_id]))}) for c in chunks]
