"""The one normaliser: how Steady makes a message comparable before reading it.

`normal` keeps the words as written (lowercase, NFKC, straight quotes, single spaces) and is what
phrase lists match against. `plain` also drops accents and apostrophes and spells out texting
shorthand ("wanna", "idk"), for the health patterns and for lexicons typed without accents.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
_MARKS = str.maketrans({"'": "", "\u0153": "oe", "\u00e6": "ae", "\u00f8": "o"})
_ELISION = re.compile(r"\b(qu|[cdjlmnst])'(?=[a-z])")  # French "j'ai", "d'en", "l'interet"
_SHORTHAND = {
    "wanna": "want to", "gonna": "going to", "tryna": "trying to", "gotta": "have to", "n": "and", "&": "and",
    "u": "you", "ur": "your", "ppl": "people", "bc": "because", "cuz": "because", "coz": "because",
    "idk": "i dont know", "rn": "right now", "tmrw": "tomorrow", "tmr": "tomorrow", "nite": "night",
    "every1": "everyone", "any1": "anyone", "some1": "someone", "no1": "no one",
}
_SHORTHAND_RX = re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(k) for k in sorted(_SHORTHAND, key=len, reverse=True))
                           + r")(?![\w'])", re.IGNORECASE)


def normal(text: str) -> str:
    """Lowercase, NFKC, straight quotes, single spaces: the words as written."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).lower().split())


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def plain(text: str) -> str:
    """`normal`, then accents and apostrophes dropped and shorthand spelled out ("don't" → "dont")."""
    flat = strip_accents(normal(text))
    return " ".join(_ELISION.sub(r"\1 ", spelled_out(flat)).translate(_MARKS).split())


def spelled_out(text: str, *, keep: tuple[str, ...] = ()) -> str:
    """Texting shorthand spelled out ("ppl" → "people", "rn" → "right now"), the rest and `keep` as written."""
    return _SHORTHAND_RX.sub(lambda m: m[0] if m[0] in keep else _SHORTHAND[m[0].lower()], text)
