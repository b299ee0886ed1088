"""Every language file in prompts/crisis/ plays its own examples: its crises caught, its calm lines not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app import safety

FILES = sorted(safety.LEXICON_DIR.glob("*.yaml"))
REPLY_KEYS = {"crisis", "threat", "paused", "continue", "choice_continue", "choice_again"}


def test_the_twenty_most_spoken_languages_have_a_file():
    langs = {yaml.safe_load(p.read_text(encoding="utf-8"))["lang"] for p in FILES}
    assert {"en", "zh-Hans", "zh-Hant", "hi", "hi-Latn", "es", "fr", "ar", "bn", "pt", "ru", "ur", "id", "de", "ja",
            "tr", "vi", "ko", "it", "pl", "nl", "sw"} <= langs


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_language_file_catches_its_crises_and_spares_its_calm_lines(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert REPLY_KEYS <= set(data["reply"]), path.name
    crises, calm = data["examples"]["crisis"], data["examples"]["calm"]
    assert len(crises) >= 5 and len(calm) >= 5
    # The lexicon alone (no classifier): each language's phrases must do their own work.
    missed = [t for t in crises if safety.match(t) is None]
    flagged = [t for t in calm if safety.match(t) is not None]
    assert missed == [] and flagged == [], (missed, flagged)
    for text in crises:  # the reply is in that language
        assert safety.match(text)[0] == data["lang"] or safety.language(text) == data["lang"], text


def test_every_english_crisis_example_is_caught_by_the_whole_check():
    """The lexicon and the classifier together: the classifier's veto on English phrases (for questions
    about the word, such as moderation work) must never drop a real crisis."""
    data = yaml.safe_load((safety.LEXICON_DIR / "en.yaml").read_text(encoding="utf-8"))
    missed = [t for t in data["examples"]["crisis"] if not safety.assess(t, classify=True).crisis]
    assert missed == []
