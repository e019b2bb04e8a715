"""A batch against a failing LLM: nothing lost, nothing duplicated, retries bounded and paid for."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from extractor.fault_server import FaultConfig, FaultServer
from extractor.llm import LLMClient, LLMError, ModelConfig
from extractor.schema import EventList
from tests.test_batch import results, write_jsonl

EXTRACTOR = str(Path(sys.executable).parent / "extractor")
MESSAGES = [{"role": "user", "content": "Article:\n[id:x] Ten Nusra Front fighters were killed Sunday."}]
MIXED_FAULTS = {"429": 0.04, "500": 0.04, "timeout": 0.02, "truncated": 0.04, "malformed": 0.03, "invalid": 0.03}


def command(articles: Path, out: Path, server: FaultServer, *extra: str) -> list[str]:
    return [EXTRACTOR, "extract", str(articles), "--model", "openai/fault-server", "--api-base", server.api_base,
            "--out", str(out), "--timeout", "1", *extra]  # fmt: skip


def test_300_articles_with_20_percent_faults_all_accounted_for_once(tmp_path: Path) -> None:
    articles = write_jsonl(tmp_path / "in.jsonl", 300)
    out = tmp_path / "out.jsonl"
    config = FaultConfig(latency_s=0.02, rates=MIXED_FAULTS, retry_after_s=0.05, hang_s=3, seed=7)
    with FaultServer(config) as server:
        proc = subprocess.run(command(articles, out, server, "--concurrency", "32", "--no-cache"),
                              capture_output=True, text=True, timeout=600, env=dict(os.environ))  # fmt: skip
        stats = dict(server.stats)
    done = results(out)
    ids = [r["article_id"] for r in done]
    assert sorted(ids) == [f"a{i:04d}" for i in range(300)], "an article was lost or written twice"
    assert all(r["status"] == "ok" or (r["status"] == "failed" and r["error"]) for r in done)
    assert sum(r["status"] == "ok" for r in done) >= 295, proc.stderr[-2000:]
    faults = sum(stats.get(f, 0) for f in MIXED_FAULTS)
    assert faults / stats["requests"] > 0.15, stats  # the faults really happened
    assert all(r["attempts"] <= 15 for r in done)  # (4 transport retries + 1) x (2 re-asks + 1)
    assert proc.returncode == (1 if any(r["status"] == "failed" for r in done) else 0)


def test_killed_run_restarts_without_repeating_finished_articles(tmp_path: Path) -> None:
    articles = write_jsonl(tmp_path / "in.jsonl", 300)
    out = tmp_path / "out.jsonl"
    with FaultServer(FaultConfig(latency_s=0.05)) as server:
        first = subprocess.Popen(command(articles, out, server, "--concurrency", "8", "--no-cache"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 100):
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        finished_before = {
            json.loads(line)["article_id"] for line in out.read_text().splitlines() if line.endswith("}")
        }
        requests_before = dict(server.requests_by_marker)
        assert 100 <= len(finished_before) < 300

        second = subprocess.run(command(articles, out, server, "--concurrency", "8", "--no-cache"),
                                capture_output=True, text=True, timeout=300, env=dict(os.environ))  # fmt: skip
        requests_after = dict(server.requests_by_marker)
    assert second.returncode == 0, second.stderr[-2000:]
    ids = [r["article_id"] for r in results(out)]
    assert sorted(ids) == [f"a{i:04d}" for i in range(300)]
    repeated = [i for i in finished_before if requests_after[i] != requests_before[i]]
    assert repeated == [], f"finished articles were sent again: {repeated[:5]}"
    assert f"{len(finished_before)} article(s) already done" in second.stderr


def test_each_article_retry_budget_is_bounded() -> None:
    config = {"api_key": "k", "backoff_initial_s": 0.01, "backoff_max_s": 0.02, "timeout_s": 0.5}
    with FaultServer(FaultConfig(rates={"500": 1.0})) as server:
        client = LLMClient(ModelConfig(model="openai/fault-server", api_base=server.api_base, **config))  # type: ignore[arg-type]
        try:
            client.create(EventList, MESSAGES, {})
            raise AssertionError("a server that always fails cannot succeed")
        except LLMError as exc:
            assert (exc.ledger.calls, exc.ledger.failed_calls) == (5, 5)
        assert server.stats["requests"] == 5


def test_tokens_spent_on_rejected_answers_are_counted() -> None:
    config = {"api_key": "k", "backoff_initial_s": 0.01, "backoff_max_s": 0.02}
    with FaultServer(FaultConfig(rates={"invalid": 1.0})) as server:
        client = LLMClient(ModelConfig(model="openai/fault-server", api_base=server.api_base, **config))  # type: ignore[arg-type]
        try:
            client.create(EventList, MESSAGES, {})
            raise AssertionError("a record that never validates cannot succeed")
        except LLMError as exc:
            assert exc.ledger.calls == 3 and server.stats["requests"] == 3
            assert exc.ledger.usage.total_tokens == server.stats["tokens"] > 0
