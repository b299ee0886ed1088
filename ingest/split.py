"""Split documents by heading, then by size, keeping the heading path as each chunk's section."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest.load import Document

CHUNK_SIZE = 900
CHUNK_OVERLAP = 120
_HEADINGS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
INTRODUCTION = "Introduction"


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    source: str
    section: str
    text: str

    @property
    def embed_text(self) -> str:
        """What is embedded and indexed: the heading path gives a short passage its context."""
        return f"{self.section}\n\n{self.text}"

    @property
    def metadata(self) -> dict[str, str]:
        return {"doc_id": self.doc_id, "title": self.title, "source": self.source, "section": self.section}


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
    seen: set[str] = set()
    for part in by_heading.split_text(doc.text):
        # The H1 is the title, shown separately; the section is the path below it.
        path = [part.metadata[key] for _, key in _HEADINGS[1:] if key in part.metadata]
        section = " > ".join(path) or INTRODUCTION
        for piece in by_size.split_text(part.page_content):
            text = piece.strip()
            if not text:
                continue
            digest = hashlib.sha256(f"{doc.doc_id}\n{section}\n{text}".encode()).hexdigest()[:16]
            chunk_id = f"{doc.doc_id}:{digest}"
            if chunk_id in seen:  # the same words twice under one heading are one passage
                continue
            seen.add(chunk_id)
            chunks.append(Chunk(chunk_id, doc.doc_id, doc.title, doc.source, section, text))
    return chunks
