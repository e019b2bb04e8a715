"""Scoring: how close one extraction comes to the expected events of an article, and of a whole run.

Predicted and expected events are paired one to one by a Hungarian assignment
on a similarity built from type, date, place and actors (DESIGN.md section 4).
An unpaired prediction is a false positive, an unpaired expected event a false
negative; fields are then scored on the pairs only, so a missed event costs
recall but never field accuracy.
"""

from __future__ import annotations

import datetime as dt
from statistics import fmean

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy.optimize import linear_sum_assignment

from extractor.actors import AliasTable, alias_key
from extractor.schema import Event, EventDate, ExtractionResult, Location

MATCH_THRESHOLD = 0.5

FIELDS = (
    "event_type",
    "sub_event_type",
    "actor_pair",
    "country",
    "region",
    "place",
    "date_exact",
    "date_within_1d",
    "fatalities_exact",
    "fatalities_in_range",
)

ACCURACY_KEYS: dict[str, str] = {
    "type_acc": "event_type",
    "sub_type_acc": "sub_event_type",
    "actor_pair_acc": "actor_pair",
    "country_acc": "country",
    "region_acc": "region",
    "place_acc": "place",
    "date_exact_acc": "date_exact",
    "date_1d_acc": "date_within_1d",
    "fat_exact_acc": "fatalities_exact",
    "fat_in_range_acc": "fatalities_in_range",
}

HEADLINE_KEYS = (
    "f1",
    "precision",
    "recall",
    "type_acc",
    "sub_type_acc",
    "actor_pair_acc",
    "place_acc",
    "date_exact_acc",
    "date_1d_acc",
    "fat_exact_acc",
    "fat_in_range_acc",
    "fat_mae",
    "grounding_rate",
    "schema_valid_rate",
    "attempts",
    "tokens_per_article",
    "cost_usd",
    "latency_s",
)

_DAY = dt.timedelta(days=1)

Match = tuple[int, int, float]


def similarity(pred: Event, exp: Event, aliases: AliasTable) -> float:
    """How alike two events are, in [0, 1]: the mean of the type, date, place and actor parts."""
    parts = (_type_part(pred, exp), _date_part(pred.date, exp.date), _place_part(pred.location, exp.location))
    return (sum(parts) + _jaccard(_actors(pred, aliases), _actors(exp, aliases))) / 4


def match_events(predicted: list[Event], expected: list[Event], aliases: AliasTable) -> list[Match]:
    """Pair events one to one, maximizing total similarity; pairs below the threshold are left unpaired.

    Sub-threshold similarities are zeroed before the assignment so that a pair
    which can never count does not pull a valid pair away from its partner.
    """
    if not predicted or not expected:
        return []
    sims = np.array([[similarity(p, e, aliases) for e in expected] for p in predicted])
    rows, cols = linear_sum_assignment(np.where(sims >= MATCH_THRESHOLD, sims, 0.0), maximize=True)
    pairs = [(int(r), int(c), float(sims[r, c])) for r, c in zip(rows, cols, strict=True)]
    return sorted((p for p in pairs if p[2] >= MATCH_THRESHOLD), key=lambda p: p[1])


def field_checks(pred: Event, exp: Event, aliases: AliasTable) -> dict[str, bool]:
    """Whether each scored field of a matched pair is right."""
    pd, ed, pf, ef = pred.date, exp.date, pred.fatalities, exp.fatalities
    return {
        "event_type": pred.event_type is exp.event_type,
        "sub_event_type": pred.sub_event_type is exp.sub_event_type,
        "actor_pair": _actors(pred, aliases) == _actors(exp, aliases),
        "country": _norm(pred.location.country) == _norm(exp.location.country),
        "region": _norm(pred.location.region) == _norm(exp.location.region),
        "place": _norm(pred.location.place) == _norm(exp.location.place),
        "date_exact": pd.start == ed.start and pd.end == ed.end,
        "date_within_1d": _within_day(pd.start, ed.start) and _within_day(pd.end, ed.end),
        "fatalities_exact": pf.best == ef.best,
        "fatalities_in_range": _in_range(pf.best, ef.best, ef.low, ef.high),
    }


class ArticleScore(BaseModel):
    """Every score for one article; ``model_dump(mode="json")`` gives its JSON form."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    matches: list[Match]
    fields: dict[str, tuple[int, int]]
    abs_errors: list[int]
    grounded_quotes: int
    total_quotes: int
    schema_valid: bool
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float

    def accuracy(self, field: str) -> float | None:
        correct, total = self.fields[field]
        return correct / total if total else None

    def metric(self, name: str) -> float | None:
        """One per-article figure under a headline key, for paired comparisons between runs."""
        if name in ACCURACY_KEYS:
            return self.accuracy(ACCURACY_KEYS[name])
        values: dict[str, float | None] = {
            "f1": self.f1,
            "precision": self.precision,
            "recall": self.recall,
            "fat_mae": fmean(self.abs_errors) if self.abs_errors else None,
            "grounding_rate": self.grounded_quotes / self.total_quotes if self.total_quotes else None,
            "schema_valid_rate": 1.0 if self.schema_valid else 0.0,
            "attempts": float(self.attempts),
            "tokens_per_article": float(self.prompt_tokens + self.completion_tokens),
            "cost_usd": self.cost_usd,
            "latency_s": self.latency_s,
        }
        if name not in values:
            raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted([*values, *ACCURACY_KEYS]))}")
        return values[name]


def score_article(
    article_id: str, expected: list[Event], result: ExtractionResult, aliases: AliasTable
) -> ArticleScore:
    """Score one result against the expected events; a failed result counts as predicting nothing."""
    predicted = result.events if result.ok else []
    matches = match_events(predicted, expected, aliases)
    counts = dict.fromkeys(FIELDS, 0)
    abs_errors: list[int] = []
    for p, e, _ in matches:
        pred, exp = predicted[p], expected[e]
        for field, right in field_checks(pred, exp, aliases).items():
            counts[field] += int(right)
        if pred.fatalities.best is not None and exp.fatalities.best is not None:
            abs_errors.append(abs(pred.fatalities.best - exp.fatalities.best))
    quotes = [q for event in predicted for q in event.evidence]
    tp = len(matches)
    fp, fn = len(predicted) - tp, len(expected) - tp
    precision, recall, f1 = _prf(tp, fp, fn)
    return ArticleScore(
        article_id=article_id,
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        matches=matches,
        fields={field: (counts[field], tp) for field in FIELDS},
        abs_errors=abs_errors,
        grounded_quotes=sum(1 for q in quotes if q.grounded is True),
        total_quotes=len(quotes),
        schema_valid=result.ok,
        attempts=result.attempts,
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        cost_usd=result.usage.cost_usd,
        latency_s=result.latency_s,
    )


class RunScore(BaseModel):
    """A run's scores: micro figures pool every event, macro figures weigh every article alike."""

    model_config = ConfigDict(frozen=True)

    n_articles: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    field_accuracy: dict[str, float | None]
    fat_mae: float | None
    grounding_rate: float | None
    macro_precision: float
    macro_recall: float
    macro_f1: float
    macro_field_accuracy: dict[str, float | None]
    schema_valid_rate: float
    mean_attempts: float
    total_prompt_tokens: int
    total_completion_tokens: int
    total_tokens: int
    tokens_per_article: float
    cost_usd: float | None
    latency_s: float

    def headline(self) -> dict[str, float | None]:
        """The micro figures a report leads with; ``cost_usd`` is the run's total."""
        values: dict[str, float | None] = {
            "f1": self.f1,
            "precision": self.precision,
            "recall": self.recall,
            "fat_mae": self.fat_mae,
            "grounding_rate": self.grounding_rate,
            "schema_valid_rate": self.schema_valid_rate,
            "attempts": self.mean_attempts,
            "tokens_per_article": self.tokens_per_article,
            "cost_usd": self.cost_usd,
            "latency_s": self.latency_s,
        }
        values.update({key: self.field_accuracy[field] for key, field in ACCURACY_KEYS.items()})
        return {key: values[key] for key in HEADLINE_KEYS}


def aggregate(scores: list[ArticleScore]) -> RunScore:
    """Pool per-article scores into run figures; refuses an empty list, whose averages mean nothing."""
    if not scores:
        raise ValueError("no article scores to aggregate")
    tp, fp, fn = sum(s.tp for s in scores), sum(s.fp for s in scores), sum(s.fn for s in scores)
    precision, recall, f1 = _prf(tp, fp, fn)
    field_accuracy: dict[str, float | None] = {}
    macro_field_accuracy: dict[str, float | None] = {}
    for field in FIELDS:
        correct = sum(s.fields[field][0] for s in scores)
        total = sum(s.fields[field][1] for s in scores)
        field_accuracy[field] = correct / total if total else None
        macro_field_accuracy[field] = _mean([s.accuracy(field) for s in scores])
    errors = [e for s in scores for e in s.abs_errors]
    quotes = sum(s.total_quotes for s in scores)
    prompt_tokens = sum(s.prompt_tokens for s in scores)
    completion_tokens = sum(s.completion_tokens for s in scores)
    costs = [s.cost_usd for s in scores]
    return RunScore(
        n_articles=len(scores),
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        field_accuracy=field_accuracy,
        fat_mae=fmean(errors) if errors else None,
        grounding_rate=sum(s.grounded_quotes for s in scores) / quotes if quotes else None,
        macro_precision=fmean(s.precision for s in scores),
        macro_recall=fmean(s.recall for s in scores),
        macro_f1=fmean(s.f1 for s in scores),
        macro_field_accuracy=macro_field_accuracy,
        schema_valid_rate=fmean(1.0 if s.schema_valid else 0.0 for s in scores),
        mean_attempts=fmean(s.attempts for s in scores),
        total_prompt_tokens=prompt_tokens,
        total_completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        tokens_per_article=(prompt_tokens + completion_tokens) / len(scores),
        cost_usd=None if any(c is None for c in costs) else sum(c for c in costs if c is not None),
        latency_s=fmean(s.latency_s for s in scores),
    )


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1; an empty answer to an empty article is perfect, not 0/0."""
    precision = tp / (tp + fp) if tp + fp else float(fn == 0)
    recall = tp / (tp + fn) if tp + fn else float(fp == 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _type_part(pred: Event, exp: Event) -> float:
    if pred.sub_event_type is exp.sub_event_type:
        return 1.0
    return 0.5 if pred.event_type is exp.event_type else 0.0


def _date_part(pred: EventDate, exp: EventDate) -> float:
    """1 when the ranges overlap, 0.5 when a day apart or when either date is unknown."""
    p, e = _span(pred), _span(exp)
    if p is None or e is None:
        return 0.5
    gap = max(p[0], e[0]) - min(p[1], e[1])
    if gap <= dt.timedelta(0):
        return 1.0
    return 0.5 if gap <= _DAY else 0.0


def _span(date: EventDate) -> tuple[dt.date, dt.date] | None:
    start = date.start or date.end
    end = date.end or date.start
    return (start, end) if start and end else None


def _place_part(pred: Location, exp: Location) -> float:
    """Credit by the finest level both sides name alike; an expected event with no location gets half."""
    if not any(_norm(x) for x in (exp.country, exp.region, exp.place)):
        return 0.5
    for level, credit in (("place", 1.0), ("region", 0.5), ("country", 0.25)):
        want = _norm(getattr(exp, level))
        if want is not None and want == _norm(getattr(pred, level)):
            return credit
    return 0.0


def _actors(event: Event, aliases: AliasTable) -> frozenset[str]:
    """The event's sides by canonical identity, ignoring order."""
    names = [event.actor1.name] + ([event.actor2.name] if event.actor2 else [])
    return frozenset(_actor_key(name, aliases) for name in names)


def _actor_key(name: str, aliases: AliasTable) -> str:
    canonical = aliases.canonical_name(name)
    return alias_key(canonical) or canonical.casefold().strip()


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _norm(text: str | None) -> str | None:
    folded = text.casefold().strip() if text else None
    return folded or None


def _within_day(pred: dt.date | None, exp: dt.date | None) -> bool:
    if pred is None or exp is None:
        return pred is exp
    return abs(pred - exp) <= _DAY


def _in_range(pred: int | None, best: int | None, low: int | None, high: int | None) -> bool:
    if best is None:
        return pred is None
    lower = low if low is not None else best
    upper = high if high is not None else best
    return pred is not None and lower <= pred <= upper


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return fmean(known) if known else None
