"""Relative dates: turn "Sunday", "earlier this week" or "last month" into a date range.

News reports date events relative to the day they are published. When the
publication date is known, this module resolves the expression the way a
human coder would (a weekday means the latest such day on or before
publication). When it is not known, a relative expression stays unresolved:
a date the model put on it would be invented, so :func:`settle_date` clears it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from extractor.schema import EventDate
from extractor.taxonomy import DatePrecision

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Resolved:
    start: dt.date
    end: dt.date
    precision: DatePrecision


def is_relative(raw: str) -> bool:
    """True when the expression only makes sense against a publication date."""
    text = raw.lower()
    if re.search(r"\b(1[89]|20)\d\d\b", text):
        return False
    return bool(
        re.search(r"\b(" + "|".join(_WEEKDAYS) + r")\b", text)
        or re.search(r"\b(today|tonight|yesterday|this|last|earlier|past|recent|ago|overnight|dawn)\b", text)
        or re.search(r"\b(" + "|".join(_MONTHS) + r")\b", text)
    )


def resolve(raw: str, published: dt.date) -> Resolved | None:
    """Resolve a relative expression against the publication date; None if it is not understood."""
    text = raw.lower()
    week_start = published - dt.timedelta(days=published.weekday())
    weekdays = [
        _latest_weekday(published, _WEEKDAYS.index(w)) for w in re.findall(r"\b(" + "|".join(_WEEKDAYS) + r")\b", text)
    ]
    if weekdays:
        if "last week" in text:
            weekdays = [d - dt.timedelta(days=7) if d >= week_start else d for d in weekdays]
        start, end = min(weekdays), max(weekdays)
        return Resolved(start, end, DatePrecision.DAY if start == end else DatePrecision.WEEK)
    if re.search(r"\b(today|tonight|this morning|this evening|at dawn)\b", text):
        return Resolved(published, published, DatePrecision.DAY)
    if "yesterday" in text:
        return Resolved(published - _DAY, published - _DAY, DatePrecision.DAY)
    if m := re.search(r"\b(\d+|two|three|four|five|six) days ago\b", text):
        n = _number(m.group(1))
        return Resolved(published - n * _DAY, published - n * _DAY, DatePrecision.DAY)
    if re.search(r"\b(past|last|recent) (few|several|couple of) days\b|\brecent days\b", text):
        return Resolved(published - 7 * _DAY, published, DatePrecision.WEEK)
    if re.search(r"\b(this|earlier this) week\b", text):
        return Resolved(week_start, published, DatePrecision.WEEK)
    if "last week" in text:
        return Resolved(week_start - 7 * _DAY, week_start - _DAY, DatePrecision.WEEK)
    if re.search(r"\b(this|earlier this) month\b", text):
        return Resolved(published.replace(day=1), published, DatePrecision.MONTH)
    if "last month" in text:
        end = published.replace(day=1) - _DAY
        return Resolved(end.replace(day=1), end, DatePrecision.MONTH)
    if re.search(r"\b(this|earlier this) year\b", text):
        return Resolved(published.replace(month=1, day=1), published, DatePrecision.YEAR)
    if "last year" in text:
        year = published.year - 1
        return Resolved(dt.date(year, 1, 1), dt.date(year, 12, 31), DatePrecision.YEAR)
    return _month_day(text, published)


def settle_date(date: EventDate, published: dt.date | None) -> tuple[EventDate, str | None]:
    """Apply the rules to a model's date: resolve what can be resolved, clear what would be invented.

    Returns the date to keep and a warning when the model's own dates were replaced.
    """
    if not date.raw or not is_relative(date.raw):
        return date, None
    if published is None:
        if date.start is None and date.end is None:
            return date, None
        cleared = date.model_copy(update={"start": None, "end": None})
        return cleared, f"date {date.raw!r} is relative and the publication date is unknown; model's dates cleared"
    resolved = resolve(date.raw, published)
    if resolved is None:
        return date, None
    settled = date.model_copy(update={"start": resolved.start, "end": resolved.end, "precision": resolved.precision})
    changed = (date.start, date.end) not in {(None, None), (resolved.start, resolved.end)}
    warning = (
        f"date {date.raw!r} resolved to {resolved.start}..{resolved.end}, not the model's {date.start}..{date.end}"
    )
    return settled, warning if changed else None


def _latest_weekday(published: dt.date, weekday: int) -> dt.date:
    return published - dt.timedelta(days=(published.weekday() - weekday) % 7)


def _number(word: str) -> int:
    words = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    return words[word] if word in words else int(word)


def _month_day(text: str, published: dt.date) -> Resolved | None:
    months = "|".join(_MONTHS)
    day_month = re.search(rf"\b(\d{{1,2}}) ({months})\b|\b({months}) (\d{{1,2}})\b", text)
    if day_month:
        day = int(day_month.group(1) or day_month.group(4))
        month = _MONTHS.index(day_month.group(2) or day_month.group(3)) + 1
        try:
            when = dt.date(published.year, month, day)
        except ValueError:
            return None
        if when > published:
            when = when.replace(year=published.year - 1)
        return Resolved(when, when, DatePrecision.DAY)
    month_only = re.search(rf"\b({months})\b", text)
    if month_only:
        month = _MONTHS.index(month_only.group(1)) + 1
        year = published.year if month <= published.month else published.year - 1
        first = dt.date(year, month, 1)
        last = (first.replace(day=28) + 4 * _DAY).replace(day=1) - _DAY
        return Resolved(first, min(last, published), DatePrecision.MONTH)
    return None
