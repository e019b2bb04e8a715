"""Comparing two runs article by article: paired differences with a bootstrap interval.

Pairing by article removes the article-to-article variance that dwarfs most
prompt effects. With a handful of articles the interval is wide, and the
output says so rather than pretending a difference is settled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evals.runner import EvalRun


@dataclass(frozen=True)
class PairedDiff:
    """B minus A for one metric over the articles where both runs define it."""

    metric: str
    articles: list[str]
    a: list[float]
    b: list[float]
    mean: float | None
    low: float | None
    high: float | None

    @property
    def n(self) -> int:
        return len(self.articles)


def bootstrap_interval(
    diffs: list[float], level: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean difference, resampling articles with replacement."""
    values = np.asarray(diffs, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def paired_difference(run_a: EvalRun, run_b: EvalRun, metric: str, level: float = 0.95) -> PairedDiff:
    """Per-article B - A on ``metric``; the mean and its bootstrap interval."""
    ids, a_values, b_values = [], [], []
    for sample in run_a.samples:
        a = run_a.article_metric(sample.article_id, metric)
        b = run_b.article_metric(sample.article_id, metric)
        if a is not None and b is not None:
            ids.append(sample.article_id)
            a_values.append(a)
            b_values.append(b)
    if not ids:
        return PairedDiff(metric, [], [], [], None, None, None)
    diffs = [b - a for a, b in zip(a_values, b_values, strict=True)]
    low, high = bootstrap_interval(diffs, level)
    return PairedDiff(metric, ids, a_values, b_values, sum(diffs) / len(diffs), low, high)


def regressed(diff: PairedDiff, max_drop: float, higher_is_better: bool = True) -> bool:
    """True when the mean moved the wrong way by more than ``max_drop``."""
    if diff.mean is None:
        return False
    change = diff.mean if higher_is_better else -diff.mean
    return change < -max_drop
