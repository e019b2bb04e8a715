"""The eval harness end to end on the recorded cassettes, held to a stored baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.cli import BASELINE, LOWER_IS_BETTER
from evals.dataset import load_dataset
from evals.runner import EvalRun
from evals.scoring import aggregate, score_article
from extractor.actors import AliasTable
from extractor.grounding import ground_events
from extractor.schema import ExtractionResult
from tests.conftest import CASSETTES

EVALS = str(Path(sys.executable).parent / "evals")
# Scores only have a direction where more is better; cost-like figures are checked separately.
QUALITY = ["f1", "precision", "recall", "type_acc", "sub_type_acc", "actor_pair_acc", "place_acc", "date_exact_acc",
           "date_1d_acc", "fat_exact_acc", "fat_in_range_acc", "grounding_rate", "schema_valid_rate"]  # fmt: skip


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run([EVALS, *map(str, args)], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("runs")
    proc = run_cli("run", "--prompts", "v1,v2", "--out", folder, "--cassette-dir", CASSETTES)
    return proc, folder


def test_expected_events_scored_against_themselves_score_one_everywhere() -> None:
    aliases = AliasTable.load()
    scores = []
    for sample in load_dataset("seeds"):
        events, _ = ground_events(sample.article.text, sample.expected)
        result = ExtractionResult(
            article_id=sample.article.id, events=events, prompt_version="gold", prompt_hash="-", model="gold"
        )
        scores.append(score_article(sample.article.id, sample.expected, result, aliases))
    headline = aggregate(scores).headline()
    for metric in QUALITY:
        assert headline[metric] == 1.0, metric
    assert headline["fat_mae"] == 0.0


def test_evals_run_replays_cassettes_and_writes_run_files_and_report(
    seed_runs: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    proc, folder = seed_runs
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == [
        "report.html", "v1__embedded__smollm2-135m.json", "v2__embedded__smollm2-135m.json",
    ]  # fmt: skip
    for line in ("v1", "v2"):
        assert any(row.split()[:1] == [line] for row in proc.stdout.splitlines()), proc.stdout
    run = EvalRun.load(folder / "v1__embedded__smollm2-135m.json")
    assert run.cassettes == "replay" and run.prompt_hash == "8b9a3c2c95f65a2e"
    assert [s.article_id for s in run.samples] == [s.article.id for s in load_dataset("seeds")]
    assert {"python", "litellm", "instructor", "pydantic"} <= set(run.versions)
    report = (folder / "report.html").read_text()
    assert report.count("<details") == 5 and 'class="expected"' in report


def test_recorded_outputs_do_not_score_below_the_baseline(
    seed_runs: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, folder = seed_runs
    baseline = json.loads(BASELINE.read_text())
    for path in sorted(folder.glob("*.json")):
        run = EvalRun.load(path)
        stored = baseline[run.label]
        assert run.prompt_hash == stored["prompt_hash"]
        for metric in QUALITY:
            was, now = stored["headline"][metric], run.headline[metric]
            if was is not None:
                assert now is not None and now >= was - 1e-9, f"{run.label}: {metric} fell from {was} to {now}"
        for metric in LOWER_IS_BETTER - {"latency_s"}:
            was, now = stored["headline"].get(metric), run.headline.get(metric)
            if was is not None and now is not None:
                assert now <= was + 1e-9, f"{run.label}: {metric} rose from {was} to {now}"


def test_compare_prints_paired_differences_and_gates(
    seed_runs: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    _, folder = seed_runs
    a, b = folder / "v1__embedded__smollm2-135m.json", folder / "v2__embedded__smollm2-135m.json"
    proc = run_cli("compare", a, b, "--metric", "f1", "--max-drop", "1.0")
    assert proc.returncode == 0, proc.stderr
    assert "f1 per article" in proc.stdout and "bootstrap interval" in proc.stdout

    worse = EvalRun.load(a)
    for sample in worse.samples:
        sample.score["tp"], sample.score["fn"] = 0, sample.score["tp"] + sample.score["fn"]
        sample.score["f1"] = sample.score["recall"] = 0.0
    worse_path = tmp_path / "worse.json"
    worse_path.write_text(worse.model_dump_json())
    best = EvalRun.load(a)
    for sample in best.samples:
        sample.score["f1"] = 1.0
    best_path = tmp_path / "best.json"
    best_path.write_text(best.model_dump_json())
    proc = run_cli("compare", best_path, worse_path, "--metric", "f1", "--max-drop", "0.1")
    assert proc.returncode == 1
    assert "regression: f1 moved -1.000" in proc.stderr
