"""The HTML report: runs side by side, per-field bars, and each article with its evidence highlighted.

One self-contained file (no scripts, no network): open it in any browser.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import jinja2

from evals.runner import EvalRun
from extractor.articles import Article
from extractor.grounding import Grounder
from extractor.schema import Event

TEMPLATES = Path(__file__).resolve().parent / "templates"
BAR_METRICS = [
    ("f1", "event F1"), ("precision", "precision"), ("recall", "recall"),
    ("type_acc", "type"), ("sub_type_acc", "sub-type"), ("actor_pair_acc", "actor pair"),
    ("place_acc", "place"), ("date_exact_acc", "date exact"), ("date_1d_acc", "date within 1 day"),
    ("fat_exact_acc", "fatalities exact"), ("fat_in_range_acc", "fatalities in range"),
    ("grounding_rate", "grounded quotes"), ("schema_valid_rate", "schema-valid"),
]  # fmt: skip
TABLE_METRICS = ["f1", "precision", "recall", "fat_mae", "grounding_rate", "schema_valid_rate", "attempts",
                 "tokens_per_article", "cost_usd", "latency_s"]  # fmt: skip


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    css: str


def highlight(text: str, spans: list[Span]) -> str:
    """The text as HTML with each span wrapped in <mark>; overlapping spans get both classes."""
    classes: list[set[str]] = [set() for _ in text]
    for span in spans:
        for i in range(max(span.start, 0), min(span.end, len(text))):
            classes[i].add(span.css)
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and classes[j] == classes[i]:
            j += 1
        chunk = html.escape(text[i:j])
        out.append(f'<mark class="{" ".join(sorted(classes[i]))}">{chunk}</mark>' if classes[i] else chunk)
        i = j
    return "".join(out)


def expected_spans(article: Article, events: list[Event]) -> list[Span]:
    grounder = Grounder(article.text)
    spans = []
    for event in events:
        for quote in event.evidence:
            found = grounder.locate(quote.quote)
            if found:
                spans.append(Span(found[0], found[1], "expected"))
    return spans


def predicted_spans(events: list[Event]) -> list[Span]:
    return [
        Span(q.start, q.end, "predicted")
        for e in events
        for q in e.evidence
        if q.grounded and q.start is not None and q.end is not None
    ]


def pair_rows(expected: list[Event], predicted: list[Event], matches: list[list[float]]) -> list[dict[str, object]]:
    """Expected and predicted events lined up: matched pairs, then misses, then inventions."""
    rows: list[dict[str, object]] = []
    matched_pred, matched_exp = set(), set()
    for pred_i, exp_i, similarity in matches:
        rows.append({"expected": expected[int(exp_i)], "predicted": predicted[int(pred_i)], "similarity": similarity})
        matched_pred.add(int(pred_i))
        matched_exp.add(int(exp_i))
    rows += [
        {"expected": e, "predicted": None, "similarity": None} for i, e in enumerate(expected) if i not in matched_exp
    ]
    rows += [
        {"expected": None, "predicted": p, "similarity": None} for i, p in enumerate(predicted) if i not in matched_pred
    ]
    return rows


def render_report(runs: list[EvalRun], articles: dict[str, Article], title: str = "Extraction eval") -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    article_views = []
    for article_id, article in articles.items():
        per_run = []
        for run in runs:
            sample = next((s for s in run.samples if s.article_id == article_id), None)
            if sample is None:
                continue
            spans = expected_spans(article, sample.expected) + predicted_spans(sample.result.events)
            rows = pair_rows(sample.expected, sample.result.events, sample.score["matches"])
            per_run.append({"run": run, "sample": sample, "rows": rows, "text_html": highlight(article.text, spans)})
        article_views.append({"article": article, "runs": per_run})
    return env.get_template("report.html.j2").render(
        title=title,
        runs=runs,
        bar_metrics=BAR_METRICS,
        table_metrics=TABLE_METRICS,
        articles=article_views,
    )


def write_report(path: Path, runs: list[EvalRun], articles: dict[str, Article]) -> Path:
    path.write_text(render_report(runs, articles), encoding="utf-8")
    return path
