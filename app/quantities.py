"""Numbers, durations and month names in a message: the one reader of quantities in Steady.

Rules, not learned models, because this text has structure: "60ish", "sixty-five", "4 or 5 months",
"a year and a half", "since march", "couple of quarters", "till march". Measured on
evals/understand/durations/ (steady eval reports the test split).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

UNITS = {"zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
         "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
VAGUE = {"couple": 2, "couple of": 2, "few": 3, "a few": 3, "several": 4, "sevral": 4, "severa": 4, "many": 8,
         "good": 1, "whole": 1, "full": 1}
MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december"]
MONTH_ABBREVIATIONS = {name[:3]: i + 1 for i, name in enumerate(MONTH_NAMES)} | {"sept": 9}
SEASONS = {"spring": 4.5, "summer": 7.5, "autumn": 10.5, "fall": 10.5, "winter": 1.5}  # mid-season month
HOLIDAYS = {"new year": 1, "new years": 1, "new year's": 1, "easter": 4, "diwali": 11, "bonfire night": 11.1,
            "thanksgiving": 11.8, "christmas": 12.8, "xmas": 12.8, "halloween": 10.99, "eid": 3.5}
UNIT_MONTHS = {"day": 1 / 30.4, "week": 1 / 4.35, "fortnight": 2 / 4.35, "month": 1.0, "quarter": 3.0, "year": 12.0, "decade": 120.0}
LONG_MONTHS = 6.0  # the guidance's line: does it pass within one or two quarters?

_WORD_NUMBER = "(?:" + "|".join(sorted([*TENS, *UNITS], key=len, reverse=True)) + ")"
_NUMBER = rf"(?:\d+(?:\.\d+)?|{_WORD_NUMBER}(?:[- ]{_WORD_NUMBER})?|half a|a half)"
_VAGUE = "(?:a couple of|couple of|a couple|couple|a few|few|several|sevral|severa|many|a good|a whole|a full)"
_UNIT = r"(?:days?|weeks?|wks?|fortnights?|months*|monts?|mnths?|mths?|mos?|quarters?|qtrs?|years?|yrs?|decades?)"
_RANGE = re.compile(rf"\b({_NUMBER})\s*(?:-|–|to|or|/)\s*({_NUMBER})\s*(?:ish\s*)?({_UNIT})\b")
_SINGLE = re.compile(rf"\b({_NUMBER}|{_VAGUE})(?:\s*ish)?\s*(?:more\s+)?({_UNIT})(?:\s+and\s+a\s+half)?\b")
_AND_HALF = re.compile(rf"\b({_NUMBER})\s+and\s+a\s+half\s+({_UNIT})\b|\b({_NUMBER})\s+({_UNIT})\s+and\s+a\s+half\b")
# "since march", "since the reorg in january", "ever since last christmas", "started after neurips in may"
_ANCHOR = r"\b(?:since|after|from|started|began|kicked in)\b[^.;!?]{0,45}?"
_SINCE = re.compile(_ANCHOR + r"\b(" + "|".join(sorted(
    [*MONTH_NAMES, *MONTH_ABBREVIATIONS, *SEASONS, *HOLIDAYS], key=len, reverse=True)) + r")\b(?:\s+(last year|(\d{4})))?")
_SINCE_YEAR = re.compile(_ANCHOR + r"\b(20\d\d)\b")
# "the team got cut in september and it's been chaos since"
_IN_MONTH_SINCE = re.compile(r"\bin\s+(" + "|".join(MONTH_NAMES) + r")\b()[^.;!?]{0,60}\bsince\b")
_SINCE_QUARTER = re.compile(r"\bsince\s+(?:the\s+start\s+of\s+)?q([1-4])\b(?!\s+started)")
_RELATIVE = (  # phrases that name a span without a number
    (re.compile(r"\b(?:since|for)\s+(?:about\s+)?(?:last|a|the past)\s+week\b|\bweek before last\b"), 0.3),
    (re.compile(r"\bsince\s+(?:monday|tuesday|wednesday|thursday|friday|yesterday|the weekend)\b"), 0.1),
    (re.compile(r"\b(?:since|for)\s+(?:the\s+(?:beginning|start)\s+of\s+)?last month\b|\blast month or so\b"), 1.0),
    (re.compile(r"\b(?:this time last year|a year now|a good year|a full year|the whole year)\b"), 12.0),
    (re.compile(r"\b(?:since\s+the\s+(?:start|beginning)\s+of\s+(?:the|this)\s+year|all (?:of )?(?:this )?year|"
                r"the whole of this year|(?:this|the) entire year|most of (?:this|the) year)\b"), None),
    (re.compile(r"\b(?:this|the last|the past)\s+(?:entire\s+|whole\s+)?quarter\b|\bsince\s+(?:the\s+)?(?:start of\s+)?q[1-4]\b"), 2.5),
)
_FOREVER = re.compile(r"\b(?:forever|for ages|ages|for years|years now|years|whole career|donkey'?s years|as long as i can remember|"
                      r"since i (?:started|joined)(?! \w+ (?:weeks?|months?) ago))\b")
_NUMBER_IN_TEXT = re.compile(rf"(?<![\w.])(\d+(?:[.,]\d+)?|{_WORD_NUMBER}(?:[- ]{_WORD_NUMBER})?)(?:\s*(?:ish|\+|plus))?(?![\w])")
_MONTH_ALONE = re.compile(r"\b(?:till|until|til|by|before|after|end of|in|to|through|thru)\s+(?:early\s+|mid[- ]?|late\s+)?("
                          + "|".join([*MONTH_NAMES, *MONTH_ABBREVIATIONS]) + r")\b")


def word_number(text: str) -> float | None:
    """'sixty-five' → 65, 'twelve' → 12, '3.5' → 3.5, 'half a' → 0.5; None when it isn't a number."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return float(text.replace(",", "."))
    if text in ("half a", "a half"):
        return 0.5
    if text in VAGUE or text.removeprefix("a ") in VAGUE:
        return float(VAGUE.get(text, VAGUE.get(text.removeprefix("a "), 0)))
    total = 0
    for part in re.split(r"[- ]", text):
        if part in TENS:
            total += TENS[part]
        elif part in UNITS:
            total += UNITS[part]
        else:
            return None
    return float(total)


def numbers(text: str) -> list[float]:
    """Every number said, in order: digits, words ("sixty-five"), "60ish", "60+"."""
    found = []
    for match in _NUMBER_IN_TEXT.finditer(text.lower()):
        value = word_number(match.group(1))
        if value is not None and match.group(1) not in ("a", "an"):
            found.append(value)
    return found


def _unit(word: str) -> float:
    word = word.lower()
    for prefix, unit in (("da", "day"), ("de", "decade"), ("w", "week"), ("f", "fortnight"), ("q", "quarter"),
                         ("y", "year")):
        if word.startswith(prefix):
            return UNIT_MONTHS[unit]
    return UNIT_MONTHS["month"]  # month, monts, mnths, mths, mos


@dataclass(frozen=True)
class Duration:
    months: float | None  # None when only "long" is known ("for ages")
    long: bool

    @property
    def bucket(self) -> str:
        """The guidance's line: "long" beyond a quarter or two, else "short"."""
        return "long" if self.long else "short"


def duration(text: str, *, today: date | None = None) -> Duration | None:
    """How long something has lasted, as said in the message; None when no duration is given."""
    low = text.lower().replace("’", "'")
    today = today or date.today()
    match = _RANGE.search(low)
    if match:
        a, b = word_number(match.group(1)), word_number(match.group(2))
        if a is not None and b is not None:
            months = (a + b) / 2 * _unit(match.group(3))
            return Duration(round(months, 2), months >= LONG_MONTHS)
    match = _AND_HALF.search(low)
    if match:
        count, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        value = word_number(count)
        if value is not None:
            months = (value + 0.5) * _unit(unit)
            return Duration(round(months, 2), months >= LONG_MONTHS)
    match = _SINGLE.search(low)
    if match:
        value = word_number(match.group(1))
        if value is not None:
            months = value * _unit(match.group(2))
            if re.search(r"\b(?:almost|nearly|not quite|under|less than|just under)\s+(?:\w+\s+)?$", low[:match.start()]):
                months -= 0.5  # "almost 6 months" is not yet six
            return Duration(round(months, 2), months >= LONG_MONTHS)
    match = _SINCE_YEAR.search(low)
    if match and int(match.group(1)) <= today.year:
        months = (today.year - int(match.group(1))) * 12 + today.month - 1
        return Duration(float(months), months >= LONG_MONTHS)
    match = _SINCE.search(low) or _IN_MONTH_SINCE.search(low)
    if match:
        months = _months_since(match.group(1), match.group(2), today)
        return Duration(round(months, 2), months >= LONG_MONTHS)
    match = _SINCE_QUARTER.search(low)
    if match:
        months = today.month - (3 * (int(match.group(1)) - 1) + 1) + 12 * (today.month <= 3 * (int(match.group(1)) - 1))
        return Duration(float(months), months >= LONG_MONTHS)
    for pattern, months in _RELATIVE:
        if pattern.search(low):
            months = today.month - 1 + (today.day - 1) / 30.4 if months is None else months
            return Duration(round(months, 2), months >= LONG_MONTHS)
    if _FOREVER.search(low):
        return Duration(None, True)
    return None


def _months_since(name: str, year_phrase: str | None, today: date) -> float:
    if name in SEASONS or name in HOLIDAYS:
        month = SEASONS.get(name) or HOLIDAYS[name]
    else:
        month = MONTH_ABBREVIATIONS.get(name[:4] if name.startswith("sept") else name[:3], 1)
    months = (today.month - month) + (today.day - 1) / 30.4
    if months <= 0:
        months += 12  # "since march" said in february means last march
    if year_phrase == "last year" and months < 12:
        months += 12
    elif year_phrase and year_phrase.isdigit():
        months = (today.year - int(year_phrase)) * 12 + today.month - month
    return months


_PAST = re.compile(r"\b(?:last|past|previous)\s+(?:week|month|quarter|year|sprint|monday|tuesday|wednesday|thursday|"
                   rf"friday|weekend|{'|'.join(MONTH_NAMES)})\b|\byesterday\b|\bago\b|\balready (?:passed|over|gone)\b")
_YEAR = re.compile(r"(?<![\d.])(\d{4})(?![\d.])")
FUTURE_YEARS = 10  # a date further off than this is no plan


def date_cannot_be(text: str, *, today: date | None = None) -> bool:
    """A date a task can't wait until: gone ("last week", "two months ago", "2021") or absurdly far ("the year 3000")."""
    low = text.lower()
    today = today or date.today()
    return bool(_PAST.search(low)) or any(not today.year <= int(y) <= today.year + FUTURE_YEARS for y in _YEAR.findall(low))


_SHARE = {"half": 0.5, "third": 1 / 3, "quarter": 0.25, "fifth": 0.2, "tenth": 0.1}
_SHARE_OF_WEEK = re.compile(r"\b(?:a|one|about a|half)\s*(half|third|quarter|fifth|tenth)?\s*(?:of\s+)?(?:my|the|a)\s+"
                            r"(?:week|time|hours|working week|work week)\b")
_VAGUE_HOURS = re.compile(rf"\b({_VAGUE}|an|one)\s+(?:more\s+)?(?:hours?|hrs?)\b")
_DAYS = re.compile(rf"\b(?:(half)\s+a|({_NUMBER}|a|an|one)(?:\s+(?:solid|full|whole|good))?)\s+(?:work\s*|working\s+)?days?\b")
WORKDAY_HOURS = 8  # "a day" of work, as the case's labels read it


def hours_said(text: str, *, week: float | None = None) -> float | None:
    """Hours a week said without a plain figure: "a third of my week" (of `week` hours), "a couple of hours",
    "an hour a day" (five days), "a solid workday" (8 hours), "half a day"."""
    low = text.lower().replace("’", "'")
    share = _SHARE_OF_WEEK.search(low)
    if share and week:
        return round(_SHARE[share.group(1) or "half"] * week, 1)
    percent = re.search(r"(\d+(?:\.\d+)?)\s*(?:%|percent)", low)
    if percent and week:
        return round(float(percent.group(1)) / 100 * week, 1)
    hours = _VAGUE_HOURS.search(low)
    if hours:
        value = word_number(hours.group(1)) if hours.group(1) not in ("an", "one") else 1.0
        return value * 5 if value and re.search(r"\b(?:a|per|each|every)\s+day\b", low[hours.end():]) else value
    days = _DAYS.search(low)
    if days:
        count = 0.5 if days.group(1) else 1.0 if days.group(2) in ("a", "an", "one") else word_number(days.group(2))
        count = count + 0.5 if count and re.search(r"\band a half\b", low[days.end():]) else count
        return count * WORKDAY_HOURS if count else None
    if re.search(r"\b(?:a\s+)?dozen\b", low):
        return 12.0
    return None


def month_named(text: str) -> str | None:
    """'till march' → 'March', 'by end of sept' → 'September': the month a date phrase names."""
    match = _MONTH_ALONE.search(text.lower())
    if not match:
        return None
    name = match.group(1)
    index = MONTH_ABBREVIATIONS.get(name[:4] if name.startswith("sept") else name[:3])
    return MONTH_NAMES[index - 1].capitalize() if index else None
