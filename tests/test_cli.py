"""The `extractor` command as a user runs it: replaying the seed cassettes, offline."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CASSETTES, SEED_FILES

EXTRACTOR = str(Path(sys.executable).parent / "extractor")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("EXTRACTOR_MODEL", None)
    return subprocess.run([EXTRACTOR, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def test_extract_seeds_to_jsonl_records_the_failure_and_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    proc = run("extract", *SEED_FILES, "--cassettes", "replay", "--cassette-dir", CASSETTES, "--out", out)
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in results] == ["failed", "ok", "failed", "ok", "ok"]
    assert results[2]["error"].startswith("the model's answer was cut off at max_tokens")
    assert all(r["usage"]["cost_usd"] == 0.0 and r["attempts"] == 1 for r in results)
    assert "5 article(s): 3 ok, 2 failed" in proc.stderr
    assert "smoke-test model" in proc.stderr
    assert proc.returncode == 1


def test_csv_has_acled_columns_and_a_row_for_the_failure(tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    run(
        "extract",
        *SEED_FILES[2:4],
        "--cassettes",
        "replay",
        "--cassette-dir",
        CASSETTES,
        "--format",
        "csv",
        "--out",
        out,
    )
    rows = list(csv.DictReader(out.open()))
    assert {"event_date", "event_type", "sub_event_type", "actor1", "inter1", "actor2", "country", "admin1",
            "location", "fatalities", "source", "notes"} <= set(rows[0])  # fmt: skip
    assert [(r["article_id"][:3], r["status"]) for r in rows] == [("002", "failed"), ("003", "ok")]


def test_a_bad_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"Homs \xe9t\xe9")
    out = tmp_path / "results.jsonl"
    proc = run("extract", SEED_FILES[1], bad, tmp_path / "missing.txt", SEED_FILES[4],
               "--cassettes", "replay", "--cassette-dir", CASSETTES, "--out", out)  # fmt: skip
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["article_id"], r["status"]) for r in results] == [
        ("001_c23cbe6c139eb7bd", "ok"), ("latin1", "failed"), ("missing", "failed"), ("004_32894de17cdd8ad9", "ok"),
    ]  # fmt: skip
    assert "latin1.txt: not UTF-8 text" in results[1]["error"]
    assert "4 article(s): 2 ok, 2 failed" in proc.stderr
    assert proc.returncode == 1


def test_missing_cassette_fails_with_the_recording_command(tmp_path: Path) -> None:
    proc = run("extract", SEED_FILES[0], "--cassettes", "replay", "--cassette-dir", tmp_path)
    result = json.loads(proc.stdout)
    assert result["status"] == "failed"
    assert "--cassettes record" in result["error"]
    assert proc.returncode == 1


def test_bad_options_are_named() -> None:
    proc = run("extract", SEED_FILES[0], "--format", "xml")
    assert proc.returncode == 2 and "--format must be jsonl or csv, not 'xml'" in proc.stderr
    proc = run("extract", SEED_FILES[0], "--prompt", "v9")
    assert proc.returncode == 2 and "prompt version 'v9' not found" in proc.stderr


def test_prompts_lists_versions_with_hashes() -> None:
    proc = run("prompts")
    assert proc.returncode == 0 and "v1" in proc.stdout and "8b9a3c2c95f65a2e" in proc.stdout
