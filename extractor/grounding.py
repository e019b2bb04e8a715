"""Grounding: find each evidence quote in the article and record its character offsets.

Models copy text imperfectly: curly quotes become straight, line breaks become
spaces, an en dash becomes a hyphen. Those differences are tolerated; anything
else is not, and such a quote is flagged as ungrounded rather than silently
trusted. Offsets always point into the original article text (Python ``str``
indices, end exclusive), so ``text[start:end]`` is what the reader sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.schema import Event, Evidence

_FOLD = {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u00a0": " ", "\u2009": " ", "\u202f": " ",
}  # fmt: skip
_FOLDABLE = re.compile("|".join(map(re.escape, _FOLD)))
_WHITESPACE_RUN = re.compile(r"\s{2,}|[^\S ]")  # runs to fold; a lone space is already folded
_STRIP = " \t\r\n'\"\u2018\u2019\u201c\u201d"


@dataclass(frozen=True)
class _Folded:
    """Article text with quote marks, dashes and whitespace runs folded, plus a map back to the original."""

    text: str
    origin: list[int]  # origin[i] = index in the original text of folded char i

    @classmethod
    def of(cls, text: str) -> _Folded:
        translated = _FOLDABLE.sub(lambda m: _FOLD[m.group()], text)
        chars: list[str] = []
        origin: list[int] = []
        position = 0
        for run in _WHITESPACE_RUN.finditer(translated):
            chars.append(translated[position : run.start()])
            origin.extend(range(position, run.start()))
            chars.append(" ")
            origin.append(run.start())
            position = run.end()
        chars.append(translated[position:])
        origin.extend(range(position, len(translated)))
        return cls("".join(chars), origin)


class Grounder:
    """Locates quotes in one article. Folding the article once serves every quote in it."""

    def __init__(self, article_text: str) -> None:
        self._text = article_text
        self._folded = _Folded.of(article_text)
        self._lower = self._folded.text.lower()

    def locate(self, quote: str) -> tuple[int, int] | None:
        """Return (start, end) of the quote in the original text, or None if it is not there."""
        needle = _Folded.of(quote.strip(_STRIP)).text.strip()
        if not needle:
            return None
        pos = self._folded.text.find(needle)
        if pos < 0 and len(self._lower) == len(self._folded.text):
            pos = self._lower.find(needle.lower())
        if pos < 0:
            return None
        start = self._folded.origin[pos]
        end = self._folded.origin[pos + len(needle) - 1] + 1
        return start, end

    def ground(self, evidence: Evidence) -> Evidence:
        """A copy of the evidence with offsets and the grounded flag set."""
        span = self.locate(evidence.quote)
        if span is None:
            return evidence.model_copy(update={"start": None, "end": None, "grounded": False})
        return evidence.model_copy(update={"start": span[0], "end": span[1], "grounded": True})


def ground_events(article_text: str, events: list[Event]) -> tuple[list[Event], list[str]]:
    """Ground every quote of every event; return the events and a warning per ungrounded quote."""
    grounder = Grounder(article_text)
    warnings: list[str] = []
    grounded_events = []
    for n, event in enumerate(events):
        evidence = [grounder.ground(q) for q in event.evidence]
        for q in evidence:
            if not q.grounded:
                warnings.append(f"event {n}: evidence quote not found in the article: {q.quote[:80]!r}")
        grounded_events.append(event.model_copy(update={"evidence": evidence}))
    return grounded_events, warnings
