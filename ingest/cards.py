"""Answer cards (prompts/cards/<doc>.yaml): Steady's own short answer for what one passage advises.

Ask opens with a card's answer, then quotes the passage as evidence. Each card names its passage the
way search hints do (section and the first words of the paragraph) and the facets it answers
(junior / senior, situational / structural, the manager conversation...). At ingest a card is tied to
its chunk and its answer embedded, so choosing a card is a vector comparison, and an unchanged card is
not embedded again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from ingest.load import Hint
from ingest.split import Chunk, plain


@dataclass(frozen=True)
class Card:
    doc_id: str
    section: str
    anchor: str
    facets: tuple[str, ...]
    answer: str

    def card_id(self, chunk_id: str) -> str:
        return f"{chunk_id}@card:{hashlib.sha256(self.answer.encode()).hexdigest()[:12]}"

    def metadata(self, chunk_id: str, *, hints: tuple[Hint, ...]) -> dict[str, str]:
        return {"kind": "card", "parent": chunk_id, "doc_id": self.doc_id, "anchor": self.anchor,
                "facets": ",".join(self.facets), "asks": "\n".join(self.asks(hints, paragraph=True)),
                "section_asks": "\n".join(self.asks(hints, paragraph=False))}

    def asks(self, hints: tuple[Hint, ...], *, paragraph: bool) -> list[str]:
        """Hint questions a question is compared with besides the answer, since questions resemble questions:
        those written for its paragraph, or those for its whole section (which can't tell its cards apart)."""
        return list(dict.fromkeys(q for h in hints if h.section == self.section
                                  and (h.anchor == self.anchor if paragraph else not h.anchor) for q in h.questions))


def load_cards(folder: Path) -> list[Card]:
    """Every card in the folder (one YAML file per document); none when the folder is absent."""
    cards = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("cards", []):
            cards.append(Card(str(data["doc"]), str(entry["section"]), str(entry.get("anchor", "")),
                              tuple(str(f) for f in entry.get("facets", [])), " ".join(str(entry["answer"]).split())))
    return cards


def place(card: Card, chunks: list[Chunk]) -> Chunk | None:
    """The chunk a card rests on: in its section, the one holding its anchor (or the section's first)."""
    in_section = [c for c in chunks if c.doc_id == card.doc_id and c.section == card.section]
    anchored = [c for c in in_section if card.anchor and plain(card.anchor) in plain(c.text)]
    return (anchored or in_section or [None])[0]
