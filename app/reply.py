"""What every turn returns, in every mode and every interface."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Reply:
    mode: str
    text: str
    citations: list[dict] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    state: dict = field(default_factory=dict)
    notice: str = ""  # e.g. the model was unreachable and the embedded engine answered

    def to_json(self) -> dict:
        return asdict(self)


def citation(n: int, passage, *, quoted: list[str] = ()) -> dict:  # passage: app.retrieval.Passage
    """A numbered source; `quoted` holds the passage's sentences the answer quoted (marked on the page)."""
    return {"n": n, "doc_id": passage.doc_id, "title": passage.title, "section": passage.section,
            "text": passage.text, "chunk_id": passage.chunk_id, "quoted": list(quoted)}
