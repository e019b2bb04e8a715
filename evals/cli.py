"""The ``evals`` command: run prompt versions x models over a dataset, and compare runs.

evals run --prompts v1,v2                    # replay cassettes: offline, seconds
evals run --prompts v2 --models openai/gpt-4o-mini --record
evals compare runs/A/v1__embedded__smollm2-135m.json runs/A/v2__embedded__smollm2-135m.json --metric f1 --max-drop 0.05
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from evals.compare import paired_difference, regressed
from evals.dataset import DatasetError, load_dataset
from evals.report import write_report
from evals.runner import EvalRun, run_eval
from extractor.cache import ResponseCache
from extractor.cassettes import CassetteMode
from extractor.console import make_console
from extractor.prompts import PromptError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Score prompt versions and models against expected events."
)
out = make_console()
err = make_console(stderr=True)

HEADLINE_COLUMNS = {
    "f1": "F1", "precision": "P", "recall": "R", "type_acc": "type", "sub_type_acc": "sub-type",
    "actor_pair_acc": "actors", "place_acc": "place", "date_1d_acc": "date±1d", "fat_in_range_acc": "deaths in range",
    "fat_mae": "deaths MAE", "grounding_rate": "grounded", "schema_valid_rate": "valid", "attempts": "attempts",
    "tokens_per_article": "tokens/article", "cost_usd": "cost $", "latency_s": "latency s",
}  # fmt: skip
BASELINE = Path(__file__).resolve().parent / "baselines" / "seeds.json"
LOWER_IS_BETTER = {"fat_mae", "attempts", "tokens_per_article", "cost_usd", "latency_s"}


@app.command()
def run(
    prompts: Annotated[str, typer.Option(help="Comma-separated prompt versions.")] = "v1",
    models: Annotated[str, typer.Option(help="Comma-separated litellm model strings, or 'embedded'.")] = "embedded",
    dataset: Annotated[str, typer.Option(help="'seeds' or a folder with *.txt and expected/*.json.")] = "seeds",
    record: Annotated[bool, typer.Option("--record", help="Record missing cassettes against the model.")] = False,
    live: Annotated[bool, typer.Option("--live", help="Ignore cassettes; call the model.")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for run files and report.html.")] = None,
    cassette_dir: Annotated[Path | None, typer.Option(help="Where cassettes live. Default: cassettes/.")] = None,
    api_base: Annotated[str | None, typer.Option(help="Base URL of an OpenAI-compatible server.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="With --live: do not use the response cache.")] = False,
) -> None:
    """Run every prompt x model pair, print the comparison, write run files and an HTML report."""
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    if record and live:
        _fail("--record and --live exclude each other: --record keeps cassettes, --live ignores them")
    mode = CassetteMode.OFF if live else CassetteMode.RECORD if record else CassetteMode.REPLAY
    try:
        samples = load_dataset(dataset)
    except DatasetError as exc:
        _fail(str(exc))
    cache = ResponseCache() if live and not no_cache else None
    folder = out_dir or Path("runs") / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    runs: list[EvalRun] = []
    for prompt in _split(prompts):
        for model in _split(models):
            err.print(f"running {prompt} x {model} on {len(samples)} article(s) ({mode.value})")
            try:
                result = run_eval(
                    samples, dataset=dataset, prompt=prompt, model=model, cassettes=mode, cassette_dir=cassette_dir,
                    api_base=api_base, cache=cache,
                )  # fmt: skip
            except PromptError as exc:
                _fail(str(exc))
            path = result.save(folder)
            err.print(f"  wrote {path}")
            for sample in result.samples:
                if not sample.result.ok:
                    err.print(f"  [yellow]{sample.article_id}[/]: {sample.result.error}")
            runs.append(result)
    out.print(comparison_table(runs))
    report = write_report(folder / "report.html", runs, {s.article.id: s.article for s in samples})
    err.print(f"report: {report}")


def comparison_table(runs: list[EvalRun]) -> Table:
    table = Table(show_edge=False)
    table.add_column("prompt")
    table.add_column("model")
    for label in HEADLINE_COLUMNS.values():
        table.add_column(label, justify="right")
    for r in runs:
        table.add_row(r.prompt_version, r.model, *(_fmt(column, r.headline.get(column)) for column in HEADLINE_COLUMNS))
    table.caption = "Micro-averages over articles. With replayed cassettes, latency is replay time, not the model's."
    return table


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline run file.")],
    run_b: Annotated[Path, typer.Argument(help="Candidate run file.")],
    metric: Annotated[str, typer.Option(help="Metric to gate on.")] = "f1",
    max_drop: Annotated[
        float, typer.Option(help="Exit 1 when the metric's mean moves the wrong way by more than this.")
    ] = 0.0,
    level: Annotated[float, typer.Option(help="Bootstrap interval level.")] = 0.95,
) -> None:
    """Paired per-article differences B - A with bootstrap intervals; exit 1 on a regression of METRIC."""
    a, b = _load(run_a), _load(run_b)
    gated = paired_difference(a, b, metric, level)
    if gated.mean is None:
        _fail(f"metric {metric!r} is not defined on any article the two runs share")
    per_article = Table(title=f"{metric} per article (A = {a.label}, B = {b.label})", show_edge=False)
    for column in ("article", "A", "B", "B - A"):
        per_article.add_column(column, justify="left" if column == "article" else "right")
    for article_id, x, y in zip(gated.articles, gated.a, gated.b, strict=True):
        per_article.add_row(article_id, f"{x:.3f}", f"{y:.3f}", f"{y - x:+.3f}")
    out.print(per_article)
    summary = Table(title=f"mean paired difference B - A, {level:.0%} bootstrap interval", show_edge=False)
    for column in ("metric", "n", "mean", "interval"):
        summary.add_column(column, justify="left" if column == "metric" else "right")
    for name in dict.fromkeys([metric, *HEADLINE_COLUMNS]):
        diff = paired_difference(a, b, name, level)
        if diff.mean is not None:
            summary.add_row(name, str(diff.n), f"{diff.mean:+.3f}", f"[{diff.low:+.3f}, {diff.high:+.3f}]")
    out.print(summary)
    if gated.n < 30:
        out.print(f"{gated.n} paired article(s): few, so intervals are wide; one that contains 0 shows no difference.")
    if regressed(gated, max_drop, higher_is_better=metric not in LOWER_IS_BETTER):
        err.print(f"[red]regression:[/] {metric} moved {gated.mean:+.3f} (allowed drop {max_drop})")
        raise typer.Exit(1)


@app.command()
def report(
    runs: Annotated[list[Path], typer.Argument(help="Run files to put side by side.")],
    out_path: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    dataset: Annotated[str, typer.Option(help="The dataset the runs used (for the article texts).")] = "seeds",
) -> None:
    """Rebuild the HTML report from saved run files."""
    loaded = [_load(p) for p in runs]
    samples = load_dataset(dataset)
    err.print(f"report: {write_report(out_path, loaded, {s.article.id: s.article for s in samples})}")


@app.command()
def baseline(
    runs: Annotated[list[Path], typer.Argument(help="Run files whose headline scores become the baseline.")],
    out_path: Annotated[Path, typer.Option("--out", help="Baseline file to write.")] = BASELINE,
) -> None:
    """Store the headline scores of RUNS as the baseline the tests hold recorded outputs to."""
    data = {}
    for path in runs:
        r = _load(path)
        data[r.label] = {"prompt_hash": r.prompt_hash, "headline": r.headline}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    err.print(f"baseline of {len(data)} run(s) written to {out_path}")


def _fmt(column: str, value: float | None) -> str:
    if value is None:
        return "-"
    if column == "tokens_per_article":
        return f"{value:.0f}"
    if column == "cost_usd":
        return f"{value:.4f}"
    return f"{value:.2f}" if column in ("latency_s", "attempts") else f"{value:.3f}"


def _split(values: str) -> list[str]:
    return [v.strip() for v in values.split(",") if v.strip()]


def _load(path: Path) -> EvalRun:
    try:
        return EvalRun.load(path)
    except (OSError, ValueError) as exc:
        _fail(f"{path}: not a readable run file ({exc})")


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/] {message}")
    raise typer.Exit(2)


def main() -> None:
    app()
