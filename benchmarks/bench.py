"""Benchmark: batch throughput against a 200 ms fake LLM, our own CPU per article, and a cached evals re-run.

    .venv/bin/python benchmarks/bench.py            # about two minutes on 2 cores
    .venv/bin/python benchmarks/bench.py --quick    # one repetition, smaller batches

Prints figures; asserts nothing. Throughput is reported as a ratio to the ideal
(concurrency / latency), the median of several runs, because the machines are
shared and noisy. The fake LLM (extractor.fault_server) runs in its own process
on loopback, as a real provider would be a separate machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.dataset import load_dataset  # noqa: E402
from extractor.actors import AliasTable  # noqa: E402
from extractor.articles import Article  # noqa: E402
from extractor.batch import run_batch  # noqa: E402
from extractor.llm import ModelConfig  # noqa: E402
from extractor.pipeline import Extractor, postprocess  # noqa: E402
from extractor.prompts import PromptVersion  # noqa: E402
from extractor.schema import EventList, ExtractionResult  # noqa: E402

LATENCY_S = 0.2
PORT = 8977


def start_fake_llm(latency: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "extractor.fault_server", "--port", str(PORT), "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    proc.stdout.readline()  # "fault server on ..."
    return proc


def stats(port: int = PORT) -> dict[str, int]:
    import httpx

    return dict(httpx.get(f"http://127.0.0.1:{port}/stats").json())


def synthetic_articles(n: int, offset: int) -> list[Article]:
    text = (
        "At least seven militants were killed Friday in renewed clashes between Daesh (ISIS) and the Nusra Front "
        "along the Lebanese-Syrian border, a security source said. Daesh fighters seized a Nusra camp. "
    ) * 4
    return [Article(id=f"b{offset + i}", text=f"[id:b{offset + i}] {text}") for i in range(n)]


async def one_throughput_run(concurrency: int, articles: list[Article]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extractor = Extractor(
            config=ModelConfig(model="openai/fake", api_base=f"http://127.0.0.1:{PORT}/v1", api_key="k")
        )
    await run_batch(synthetic_articles(concurrency, 10**6), extractor, concurrency=concurrency)  # warm connections
    started = time.perf_counter()
    summary = await run_batch(articles, extractor, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    await extractor.aclose()
    assert summary.ok == len(articles), f"{summary.failed} failed"
    return len(articles) / elapsed


def throughput(repeats: int, rounds: int) -> None:
    print(f"\n1. Throughput against the fake LLM at {LATENCY_S * 1000:.0f} ms latency (median of {repeats} runs)")
    print(f"   {'concurrency':>11}  {'articles/s':>10}  {'ideal':>6}  {'ratio':>6}")
    server = start_fake_llm(LATENCY_S)
    try:
        for concurrency in (1, 8, 32, 64):
            n = concurrency * rounds
            rates = [asyncio.run(one_throughput_run(concurrency, synthetic_articles(n, r * n))) for r in range(repeats)]
            rate = statistics.median(rates)
            ideal = concurrency / LATENCY_S
            print(f"   {concurrency:>11}  {rate:>10.1f}  {ideal:>6.0f}  {rate / ideal:>6.2f}")
    finally:
        server.terminate()


def own_cpu(repeats: int, loops: int) -> None:
    """Prompt rendering, validation, grounding and normalization, writing: everything but the HTTP call."""
    print(
        f"\n2. CPU in our own code per article (seed articles, expected events as the model's answer; median of {repeats})"
    )
    samples = load_dataset("seeds")
    prompt = PromptVersion.load("v2")
    aliases = AliasTable.load()
    answers = [
        json.dumps({"events": [e.model_dump(mode="json", exclude_none=True) for e in s.expected]}) for s in samples
    ]
    steps = {"render prompt": 0.0, "validate answer": 0.0, "ground + normalize": 0.0, "write JSON line": 0.0}
    totals = []
    for _ in range(repeats):
        spent = dict.fromkeys(steps, 0.0)
        for _ in range(loops):
            for sample, answer in zip(samples, answers, strict=True):
                t0 = time.process_time()
                prompt.render(sample.article)
                t1 = time.process_time()
                events = EventList.model_validate_json(answer, context={"published": sample.article.published}).events
                t2 = time.process_time()
                grounded, notes = postprocess(sample.article, events, aliases)
                t3 = time.process_time()
                result = ExtractionResult(article_id=sample.article.id, events=grounded, warnings=notes,
                                          prompt_version="v2", prompt_hash="-", model="m")  # fmt: skip
                json.dumps(result.model_dump(mode="json"), ensure_ascii=False)
                t4 = time.process_time()
                for name, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    spent[name] += value
        n = loops * len(samples)
        totals.append(sum(spent.values()) / n * 1000)
        for name in steps:
            steps[name] = spent[name] / n * 1000
    for name, ms in steps.items():
        print(f"   {name:<20} {ms:6.3f} ms (last run)")
    print(
        f"   {'total':<20} {statistics.median(totals):6.3f} ms per article (median; {sum(len(s.expected) for s in samples) / len(samples):.1f} events per article)"
    )


def cached_evals_rerun() -> None:
    print("\n3. Seeds evals run live twice against the fake LLM (0 ms latency) with a fresh response cache")
    server = start_fake_llm(0.0)
    env = {**os.environ, "EXTRACTOR_CACHE_DIR": tempfile.mkdtemp(prefix="bench-cache-")}
    evals = str(Path(sys.executable).parent / "evals")
    try:
        for label in ("first run", "cached re-run"):
            before = stats().get("requests", 0)
            started = time.perf_counter()
            subprocess.run(
                [evals, "run", "--prompts", "v1,v2", "--models", "openai/fake", "--api-base", f"http://127.0.0.1:{PORT}/v1",
                 "--live", "--out", tempfile.mkdtemp(prefix="bench-runs-")],
                check=True, capture_output=True, env=env, cwd=ROOT,
            )  # fmt: skip
            elapsed = time.perf_counter() - started
            print(f"   {label:<14} {elapsed:5.2f} s wall, {stats().get('requests', 0) - before} LLM call(s)")
    finally:
        server.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description="Print batch throughput, own-CPU and cache figures.")
    parser.add_argument("--quick", action="store_true", help="one repetition, smaller batches")
    args = parser.parse_args()
    repeats, rounds = (1, 10) if args.quick else (3, 25)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    throughput(repeats, rounds)
    own_cpu(repeats=5 if not args.quick else 1, loops=40 if not args.quick else 10)
    cached_evals_rerun()


if __name__ == "__main__":
    main()
