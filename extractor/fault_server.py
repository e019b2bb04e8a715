"""A fault-injecting OpenAI-compatible server, on loopback only, for reliability tests and benchmarks.

It answers ``POST /v1/chat/completions`` with a valid event record built from the
article in the prompt, after a configurable latency, and with configurable
rates of the faults a real provider throws at a batch: 429 with Retry-After,
500, a hang past the client's timeout, a truncated body, malformed JSON and a
record that fails validation. ``GET /stats`` reports what it served.

    python -m extractor.fault_server --port 8900 --latency 0.2 --rate-429 0.05 --rate-500 0.05

It binds 127.0.0.1 and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FAULTS = ("429", "500", "timeout", "truncated", "malformed", "invalid")
_ARTICLE = re.compile(r"Article:\n(.*)", re.S)
_MARKER = re.compile(r"\[id:([^\]]+)\]")


@dataclass
class FaultConfig:
    """Latency and the share of requests that get each fault (the rest are answered well)."""

    latency_s: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)
    retry_after_s: float = 0.05
    hang_s: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULTS)}")
        if sum(self.rates.values()) > 1:
            raise ValueError("fault rates add up to more than 1")


def good_record(article_text: str) -> dict[str, Any]:
    """A valid one-event answer quoting the article's first sentence."""
    first = re.split(r"(?<=[.!?])\s", article_text.strip(), maxsplit=1)[0][:280] or "x"
    return {
        "events": [
            {
                "evidence": [{"quote": first}],
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "actor1": {"name": "Islamic State", "mentions": ["ISIS"]},
                "actor2": {"name": "Nusra Front", "mentions": ["Nusra"]},
                "fatalities": {"best": 7, "low": 7, "high": 9},
                "summary": "Islamic State and Nusra Front fighters clashed.",
            }
        ]
    }


class FaultServer:
    """The server and its counters. ``start()`` runs it on a background thread; ``stop()`` ends it."""

    def __init__(self, config: FaultConfig | None = None, port: int = 0) -> None:
        self.config = config or FaultConfig()
        self.port = port
        self.stats: Counter[str] = Counter()
        self.requests_by_marker: Counter[str] = Counter()
        self._random = random.Random(self.config.seed)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/stats", self._stats)
        return app

    def _pick_fault(self) -> str | None:
        draw = self._random.random()
        for fault in FAULTS:
            draw -= self.config.rates.get(fault, 0.0)
            if draw < 0:
                return fault
        return None

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw)
        user = next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        for marker in _MARKER.findall(user)[:1]:
            self.requests_by_marker[marker] += 1
        fault = self._pick_fault()
        self.stats["requests"] += 1
        self.stats[fault or "ok"] += 1
        await asyncio.sleep(self.config.latency_s)
        if fault == "429":
            return web.json_response(
                {"error": {"message": "rate limited", "type": "rate_limit"}},
                status=429,
                headers={"Retry-After": str(self.config.retry_after_s)},
            )
        if fault == "500":
            return web.json_response({"error": {"message": "internal error"}}, status=500)
        if fault == "timeout":
            await asyncio.sleep(self.config.hang_s)
        if fault == "malformed":
            return web.Response(text='{"id": "chatcmpl-x", "choices": [', content_type="application/json")
        match = _ARTICLE.search(user)
        record = good_record(match.group(1) if match else user)
        if fault == "invalid":
            record["events"][0]["fatalities"] = {"best": 7, "low": 9, "high": 9}  # low > best
        completion = _completion(body, json.dumps(record), len(raw) // 4)
        self.stats["tokens"] += completion["usage"]["total_tokens"]
        payload = json.dumps(completion).encode()
        if fault == "truncated":
            response = web.StreamResponse(
                headers={"Content-Type": "application/json", "Content-Length": str(len(payload))}
            )
            await response.prepare(request)
            await response.write(payload[: len(payload) // 2])
            assert request.transport is not None
            request.transport.close()
            return response
        return web.Response(body=payload, content_type="application/json")

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fault-server", "object": "model"}]})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({**self.stats, "requests_by_marker": dict(self.requests_by_marker)})

    # --- running ---------------------------------------------------------------
    async def serve(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=1024)
        await site.start()
        if self.port == 0:
            server = site._server
            assert server is not None and hasattr(server, "sockets")
            self.port = int(server.sockets[0].getsockname()[1])

    def start(self) -> FaultServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fault-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _completion(request: dict[str, Any], content: str, prompt_tokens: int) -> dict[str, Any]:
    completion_tokens = len(content) // 4
    return {
        "id": "chatcmpl-fault-server",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "fault-server"),
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--retry-after", type=float, default=0.05, help="Retry-After sent with 429s")
    parser.add_argument("--hang", type=float, default=30.0, help="how long a 'timeout' fault holds the request")
    parser.add_argument("--seed", type=int, default=0)
    for fault in FAULTS:
        parser.add_argument(f"--rate-{fault}", type=float, default=0.0, help=f"share of requests that get '{fault}'")
    args = parser.parse_args(argv)
    rates = {f: getattr(args, f"rate_{f}") for f in FAULTS if getattr(args, f"rate_{f}")}
    server = FaultServer(FaultConfig(args.latency, rates, args.retry_after, args.hang, args.seed), args.port)

    async def forever() -> None:
        await server.serve()
        print(f"fault server on {server.api_base}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(forever())


if __name__ == "__main__":
    main()
