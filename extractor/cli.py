"""The ``extractor`` command line.

    extractor extract seeds/*.txt --out results.jsonl
    extractor extract article.txt --model openai/gpt-4o-mini --format csv --out events.csv
    extractor prompts

Results go to ``--out`` (or stdout); progress, warnings and the closing
summary go to stderr. A run over several articles goes on past a bad one,
records its failure in the output and exits with status 1 at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from extractor.articles import Article
from extractor.batch import BatchSummary, run_batch
from extractor.cache import ResponseCache
from extractor.cassettes import CassetteMode
from extractor.console import make_console
from extractor.embedded import QUALITY_WARNING
from extractor.limits import RateLimiter
from extractor.llm import ModelConfig, is_embedded, resolve_model_name
from extractor.output import OutputFormat, ResultWriter, prepare_resume
from extractor.pipeline import Extractor
from extractor.prompts import PromptError, PromptVersion, available_versions, default_prompts_dir
from extractor.schema import ExtractionResult
from extractor.sources import SourceError, iter_articles

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Turn news articles into armed-conflict event records."
)
err = make_console(stderr=True)
SUMMARY_TABLE_MAX = 25


@app.command()
def extract(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Article .txt files, folders of them, glob patterns, or .jsonl files (id, text, title, url, published).",
            metavar="INPUT...",
        ),
    ],
    model: Annotated[
        str | None, typer.Option(help="litellm model string, or 'embedded'. Default: $EXTRACTOR_MODEL, else embedded.")
    ] = None,
    prompt: Annotated[str, typer.Option(help="Prompt version (a folder under prompts/).")] = "v1",
    out: Annotated[Path | None, typer.Option(help="Output file; re-running with it resumes. Default: stdout.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="jsonl (one result per article) or csv (one row per event).")
    ] = "jsonl",
    api_base: Annotated[
        str | None, typer.Option(help="Base URL of an OpenAI-compatible server (use an openai/ model string).")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens the model may write per answer.")] = None,
    retries: Annotated[int | None, typer.Option(help="Re-asks after a validation error.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds one LLM call may take before it is retried.")] = None,
    published: Annotated[
        str | None, typer.Option(help="Publication date YYYY-MM-DD for articles without metadata.")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Articles in flight at once.")] = 4,
    rpm: Annotated[float | None, typer.Option(help="Most LLM requests per minute.")] = None,
    tpm: Annotated[float | None, typer.Option(help="Most LLM tokens (prompt + answer) per minute.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Response cache folder. Default: $EXTRACTOR_CACHE_DIR or ~/.cache/conflict-extractor."),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start --out afresh instead of resuming it.")] = False,
    cassettes: Annotated[str, typer.Option(help="off (live), replay, record (missing ones) or rerecord.")] = "off",
    cassette_dir: Annotated[Path | None, typer.Option(help="Where cassettes live. Default: cassettes/.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log retries and warnings as they happen.")] = False,
) -> None:
    """Extract events from every INPUT article and write one result per article as each finishes."""
    _quiet_libraries(verbose)
    if fmt not in ("jsonl", "csv"):
        _fail(f"--format must be jsonl or csv, not {fmt!r}")
    try:
        mode = CassetteMode(cassettes)
    except ValueError:
        _fail(f"--cassettes must be one of off, replay, record, rerecord, not {cassettes!r}")
    if concurrency < 1:
        _fail(f"--concurrency must be at least 1, not {concurrency}")
    if mode is not CassetteMode.OFF and concurrency > 1:
        concurrency = 1  # vcrpy patches HTTP process-wide: one cassette at a time
    published_date = _parse_date(published) if published else None
    config = ModelConfig.for_model(model)
    overrides: dict[str, Any] = {
        "api_base": api_base, "max_tokens": max_tokens, "max_validation_retries": retries, "timeout_s": timeout,
    }  # fmt: skip
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if is_embedded(config.model):
        err.print(f"[yellow]warning:[/] {QUALITY_WARNING}")

    items = [_with_date(item, published_date) for item in iter_articles(inputs)]
    done_keys: set[str] = set()
    resume = out is not None and fmt == "jsonl" and not overwrite
    if resume and out is not None and out.exists():
        done_keys, dropped = prepare_resume(out)
        err.print(f"resuming {out}: {len(done_keys)} article(s) already done, {dropped} earlier failure(s) to retry")
    cache = None if no_cache else ResponseCache(cache_dir)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            extractor = Extractor(
                config=config, prompt=prompt, cassettes=mode, cassette_dir=cassette_dir,
                cache=cache, limiter=RateLimiter(rpm, tpm) if rpm or tpm else None,
            )  # fmt: skip
    except PromptError as exc:
        _fail(str(exc))

    results: list[ExtractionResult] = []
    with (
        extractor,
        ResultWriter(out, fmt_of(fmt), stream=sys.stdout, append=resume) as writer,
        _progress(len(items)) as progress,
    ):
        task = progress.add_task("extracting", total=len(items), failed=0, rate="-", cost="0")

        def on_result(result: ExtractionResult) -> None:
            writer.write(result)
            results.append(result)
            if not result.ok:
                progress.console.print(f"[red]failed[/] {result.article_id}: {result.error}")
            elif verbose:
                for warning in result.warnings:
                    progress.console.print(f"[yellow]warning[/] {result.article_id}: {warning}")

        def on_progress(summary: BatchSummary) -> None:
            rate = summary.finished / summary.elapsed_s if summary.elapsed_s else 0.0
            cost = "?" if summary.cost_usd is None else f"{summary.cost_usd:.4f}"
            progress.update(task, completed=summary.finished, failed=summary.failed, rate=f"{rate:.1f}", cost=cost)

        async def batch() -> BatchSummary:
            try:
                return await run_batch(items, extractor, concurrency=concurrency, done_keys=done_keys,
                                       on_result=on_result, on_progress=on_progress, total=len(items))  # fmt: skip
            finally:
                await extractor.aclose()

        summary = asyncio.run(batch())
    _summary(results, out)
    err.print(
        f"{summary.total} article(s): {summary.ok} ok, {summary.failed} failed, {summary.skipped} already done"
        f" · {summary.llm_calls} LLM call(s), {summary.cache_hits} from cache · {summary.tokens} tokens"
        f" · cost {'unknown' if summary.cost_usd is None else f'${summary.cost_usd:.4f}'} · {summary.elapsed_s:.1f}s"
        + (f" -> {out}" if out else "")
    )
    if summary.failed:
        raise typer.Exit(1)


def _with_date(item: Article | SourceError, published: dt.date | None) -> Article | SourceError:
    if published and isinstance(item, Article) and item.published is None:
        return item.model_copy(update={"published": published})
    return item


@app.command()
def export(
    results: Annotated[Path, typer.Argument(help="A JSONL results file written by `extractor extract`.")],
    out: Annotated[Path | None, typer.Option(help="CSV file to write. Default: stdout.")] = None,
) -> None:
    """Turn a JSONL results file into ACLED-like CSV, one row per event (and one per failed article)."""
    if not results.is_file():
        _fail(f"{results}: no such results file")
    with ResultWriter(out, "csv", stream=sys.stdout) as writer:
        for number, line in enumerate(results.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                writer.write(ExtractionResult.model_validate_json(line))
            except ValueError as exc:
                err.print(f"[yellow]skipped[/] {results}:{number}: not a result ({str(exc).splitlines()[0]})")


def fmt_of(value: str) -> OutputFormat:
    return "csv" if value == "csv" else "jsonl"


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed[/]"), TextColumn("{task.fields[rate]}/s"),
        TimeRemainingColumn(), TextColumn("${task.fields[cost]}"),
        console=err, transient=True, disable=total < 2 or not err.is_terminal,
    )  # fmt: skip


def _summary(results: list[ExtractionResult], out: Path | None) -> None:
    if len(results) > SUMMARY_TABLE_MAX:
        failed = [r for r in results if not r.ok]
        for r in failed[:SUMMARY_TABLE_MAX]:
            err.print(f"  [red]{r.article_id}[/]: {r.error}")
        if len(failed) > SUMMARY_TABLE_MAX:
            err.print(f"  ... and {len(failed) - SUMMARY_TABLE_MAX} more failures: see the output file")
        return
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
    for r in results:
        if not r.ok:
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
