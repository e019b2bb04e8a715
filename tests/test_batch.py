"""Batch inputs, resume and the response cache, through the `extractor` command against the fault server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from extractor.fault_server import FaultConfig, FaultServer
from extractor.sources import SourceError, iter_articles
from tests.conftest import SEEDS

EXTRACTOR = str(Path(sys.executable).parent / "extractor")


def run(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXTRACTOR, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
    )


def write_jsonl(path: Path, n: int, start: int = 0) -> Path:
    with path.open("w") as f:
        for i in range(start, start + n):
            text = f"[id:a{i:04d}] Clashes near Arsal killed {i % 9 + 2} fighters on Sunday. More text follows."
            f.write(json.dumps({"id": f"a{i:04d}", "text": text, "published": "2016-03-29"}) + "\n")
    return path


def results(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(FaultConfig(latency_s=0.01)) as fault_server:
        yield fault_server


def model_args(server: FaultServer) -> list[str]:
    return ["--model", "openai/fault-server", "--api-base", server.api_base]


def test_sources_folder_glob_and_jsonl_with_bad_lines(tmp_path: Path) -> None:
    jsonl = tmp_path / "batch.jsonl"
    jsonl.write_text(
        '{"id": "ok1", "text": "Fighting in Homs."}\nnot json\n{"id": "empty", "text": "  "}\n[1]\n{"text": "no id"}\n'
    )
    items = list(iter_articles([str(jsonl), str(SEEDS), str(SEEDS / "00[01]_*.txt"), str(tmp_path / "none-*.txt")]))
    errors = [i for i in items if isinstance(i, SourceError)]
    articles = [i for i in items if not isinstance(i, SourceError)]
    assert [a.id for a in articles][:2] == ["ok1", "batch:5"]
    assert len(articles) == 2 + 5 + 2
    assert [e.message.split(": ", 1)[1] for e in errors] == [
        "not a JSON object (Expecting value); fix or remove the line",
        "text: Value error, the article text is empty or whitespace only; give an article with text",
        "expected an object with id and text",
        "no file matches this pattern",
    ]


def test_batch_writes_every_article_once_and_resumes_without_repeating(tmp_path: Path, server: FaultServer) -> None:
    articles = write_jsonl(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    first = run("extract", articles, *model_args(server), "--concurrency", "8", "--no-cache", "--out", out)
    assert first.returncode == 0, first.stderr
    assert sorted(r["article_id"] for r in results(out)) == [f"a{i:04d}" for i in range(40)]
    assert server.stats["requests"] == 40
    assert "40 article(s): 40 ok, 0 failed, 0 already done · 40 LLM call(s)" in first.stderr

    write_jsonl(tmp_path / "in.jsonl", 50)  # ten new articles appended
    second = run("extract", articles, *model_args(server), "--concurrency", "8", "--no-cache", "--out", out)
    assert second.returncode == 0, second.stderr
    assert "resuming" in second.stderr and "40 article(s) already done" in second.stderr
    assert server.stats["requests"] == 50  # only the ten new ones were sent
    assert sorted(r["article_id"] for r in results(out)) == [f"a{i:04d}" for i in range(50)]


def test_unchanged_rerun_is_answered_from_the_cache(tmp_path: Path, server: FaultServer) -> None:
    articles = write_jsonl(tmp_path / "in.jsonl", 12)
    run("extract", articles, *model_args(server), "--out", tmp_path / "a.jsonl")
    assert server.stats["requests"] == 12
    again = run("extract", articles, *model_args(server), "--out", tmp_path / "b.jsonl")
    assert server.stats["requests"] == 12, "a cached re-run called the model"
    assert "0 LLM call(s), 12 from cache" in again.stderr
    assert all(r["cache_hits"] == 1 and r["status"] == "ok" for r in results(tmp_path / "b.jsonl"))
    run("extract", articles, *model_args(server), "--no-cache", "--out", tmp_path / "c.jsonl")
    assert server.stats["requests"] == 24


def test_export_turns_results_into_csv(tmp_path: Path, server: FaultServer) -> None:
    out = tmp_path / "out.jsonl"
    run("extract", write_jsonl(tmp_path / "in.jsonl", 3), *model_args(server), "--out", out)
    proc = run("export", out)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("article_id,event_id,status,error,event_date")
    assert len(lines) == 4 and all(",Battles,Armed clash,Islamic State," in line for line in lines[1:])
