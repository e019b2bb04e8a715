"""The ``extractor`` command line.

    extractor extract seeds/*.txt --out results.jsonl
    extractor extract article.txt --model openai/gpt-4o-mini --format csv --out events.csv
    extractor prompts

Results go to ``--out`` (or stdout); progress, warnings and the closing
summary go to stderr. A run over several articles goes on past a bad one,
records its failure in the output and exits with status 1 at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from extractor.articles import ArticleError, load_article
from extractor.cassettes import CassetteMode
from extractor.console import make_console
from extractor.embedded import QUALITY_WARNING
from extractor.llm import ModelConfig, is_embedded, resolve_model_name
from extractor.output import OutputFormat, ResultWriter
from extractor.pipeline import ExtractionError, Extractor
from extractor.prompts import PromptError, PromptVersion, available_versions, default_prompts_dir
from extractor.schema import ExtractionResult

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Turn news articles into armed-conflict event records."
)
err = make_console(stderr=True)


@app.command()
def extract(
    files: Annotated[
        list[Path], typer.Argument(help="Article text files (UTF-8). A NAME.meta.json beside one adds its metadata.")
    ],
    model: Annotated[
        str | None, typer.Option(help="litellm model string, or 'embedded'. Default: $EXTRACTOR_MODEL, else embedded.")
    ] = None,
    prompt: Annotated[str, typer.Option(help="Prompt version (a folder under prompts/).")] = "v1",
    out: Annotated[Path | None, typer.Option(help="Output file. Default: stdout.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="jsonl (one result per article) or csv (one row per event).")
    ] = "jsonl",
    api_base: Annotated[
        str | None, typer.Option(help="Base URL of an OpenAI-compatible server (use an openai/ model string).")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens the model may write per answer.")] = None,
    retries: Annotated[int | None, typer.Option(help="Re-asks after a validation error.")] = None,
    published: Annotated[
        str | None, typer.Option(help="Publication date YYYY-MM-DD for articles without metadata.")
    ] = None,
    cassettes: Annotated[str, typer.Option(help="off (live), replay, record (missing ones) or rerecord.")] = "off",
    cassette_dir: Annotated[Path | None, typer.Option(help="Where cassettes live. Default: cassettes/.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log retries and warnings as they happen.")] = False,
) -> None:
    """Extract events from each FILE and write one result per article."""
    _quiet_libraries(verbose)
    if fmt not in ("jsonl", "csv"):
        _fail(f"--format must be jsonl or csv, not {fmt!r}")
    try:
        mode = CassetteMode(cassettes)
    except ValueError:
        _fail(f"--cassettes must be one of off, replay, record, rerecord, not {cassettes!r}")
    published_date = _parse_date(published) if published else None
    config = ModelConfig.for_model(model)
    overrides: dict[str, Any] = {"api_base": api_base, "max_tokens": max_tokens, "max_validation_retries": retries}
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if is_embedded(config.model):
        err.print(f"[yellow]warning:[/] {QUALITY_WARNING}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            extractor = Extractor(config=config, prompt=prompt, cassettes=mode, cassette_dir=cassette_dir)
    except PromptError as exc:
        _fail(str(exc))

    results: list[ExtractionResult] = []
    with extractor, ResultWriter(out, fmt_of(fmt), stream=sys.stdout) as writer, _progress(len(files)) as progress:
        task = progress.add_task("extracting", total=len(files))
        for path in files:
            progress.update(task, description=path.name)
            result = _extract_one(extractor, path, published_date)
            writer.write(result)
            results.append(result)
            if not result.ok:
                progress.console.print(f"[red]failed[/] {result.article_id}: {result.error}")
            elif verbose:
                for warning in result.warnings:
                    progress.console.print(f"[yellow]warning[/] {result.article_id}: {warning}")
            progress.advance(task)
    _summary(results, out)
    if any(not r.ok for r in results):
        raise typer.Exit(1)


def _extract_one(extractor: Extractor, path: Path, published: dt.date | None) -> ExtractionResult:
    try:
        article = load_article(path)
        if published and article.published is None:
            article = article.model_copy(update={"published": published})
        return extractor.extract(article)
    except ExtractionError as exc:
        return exc.result
    except ArticleError as exc:
        return ExtractionResult(
            article_id=path.stem,
            status="failed",
            error=str(exc),
            prompt_version=extractor.prompt.version,
            prompt_hash=extractor.prompt.content_hash,
            model=extractor.config.model,
        )


def fmt_of(value: str) -> OutputFormat:
    return "csv" if value == "csv" else "jsonl"


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=total < 2,
    )  # fmt: skip


def _summary(results: list[ExtractionResult], out: Path | None) -> None:
    table = Table(title=None, show_edge=False)
    for column in ("article", "status", "events", "attempts", "tokens", "cost $", "latency s", "grounded"):
        table.add_column(
            column, justify="left" if column in ("article", "status") else "right", no_wrap=column == "article"
        )
    for r in results:
        rate = r.grounding_rate
        cost = "?" if r.usage.cost_usd is None else f"{r.usage.cost_usd:.4f}"
        table.add_row(
            r.article_id, "ok" if r.ok else "[red]failed[/]", str(len(r.events)), str(r.attempts),
            str(r.usage.total_tokens), cost, f"{r.latency_s:.1f}", "-" if rate is None else f"{rate:.0%}",
        )  # fmt: skip
    err.print(table)
    failed = [r for r in results if not r.ok]
    where = f" -> {out}" if out else ""
    err.print(f"{len(results)} article(s): {len(results) - len(failed)} ok, {len(failed)} failed{where}")
    for r in failed:
        err.print(f"  [red]{r.article_id}[/]: {r.error}")


@app.command()
def prompts() -> None:
    """List the prompt versions with their content hashes."""
    table = Table(show_edge=False)
    for column in ("version", "parent", "hash", "summary"):
        table.add_column(column)
    for version in available_versions():
        p = PromptVersion.load(version)
        table.add_row(p.version, p.parent or "-", p.content_hash, p.summary)
    make_console().print(table)
    err.print(f"prompts folder: {default_prompts_dir()}")


@app.command()
def model() -> None:
    """Say which model a run would use, and why."""
    name = resolve_model_name()
    make_console().print(name)
    if is_embedded(name):
        err.print("(the embedded default: set $EXTRACTOR_MODEL or pass --model to use another)")


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"--published must be a date like 2016-03-29, not {value!r}")


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/] {message}")
    raise typer.Exit(2)


def _quiet_libraries(verbose: bool) -> None:
    """instructor and litellm log every failed attempt at ERROR; our summary already reports them."""
    logging.basicConfig(
        level=logging.WARNING if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    for name in ("instructor", "LiteLLM", "litellm", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING if verbose else logging.CRITICAL)


def main() -> None:
    app()
