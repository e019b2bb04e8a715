"""The real embedded model, really started: llama.cpp serving SmolLM2-135M on loopback. No mock, no cassette.

This is the test that proves a fresh machine can extract offline. It runs in CI
(no network needed) and takes about half a minute on two cores.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from extractor import Article, ExtractionError, Extractor
from extractor.embedded import EmbeddedServer

pytestmark = pytest.mark.live

ARTICLE = Article(
    id="live-short",
    text=(
        "At least seven militants were killed Friday in renewed clashes between Daesh (ISIS) and the Nusra Front "
        "along the Lebanese-Syrian border, a security source told The Daily Star."
    ),
)


def test_embedded_model_extracts_through_the_whole_pipeline() -> None:
    with Extractor(model="embedded", prompt="v1", cassettes="off") as extractor:
        try:
            result = extractor.extract(ARTICLE)
        except ExtractionError as exc:  # a 135M model may fail validation; the failure must still be accounted for
            result = exc.result
        server = extractor._server
        assert server is not None, "the embedded server was not started"
        api_base = server.api_base
    assert extractor._server is None, "the embedded server was not stopped"
    assert result.model == "embedded/smollm2-135m"
    assert result.attempts >= 1
    assert result.usage.prompt_tokens > 50 and result.usage.completion_tokens > 0
    assert result.usage.cost_usd == 0.0
    assert result.latency_s > 0
    if result.ok:
        assert all(q.grounded is not None for e in result.events for q in e.evidence)
    else:
        # the two ways a small model fails, each naming the attempts actually made
        assert result.error is not None
        assert re.match(
            rf"(no valid record after|the model's answer was cut off at max_tokens after) {result.attempts} ",
            result.error,
        )
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{api_base}/models", timeout=2)


def test_embedded_server_answers_a_constrained_question() -> None:
    """The DESIGN note's observation, checked for real: one short question about one sentence."""
    with EmbeddedServer() as server:
        reply = httpx.post(
            f"{server.api_base}/chat/completions",
            json={
                "model": "smollm2-135m",
                "temperature": 0,
                "max_tokens": 24,
                "messages": [
                    {
                        "role": "user",
                        "content": "Ten Nusra Front fighters and eight ISIS militants were killed Sunday. "
                        "How many Nusra Front fighters were killed? Answer with a number.",
                    },
                ],
                "response_format": {
                    "type": "json_object",
                    "schema": {"type": "object", "properties": {"killed": {"type": "integer"}}, "required": ["killed"]},
                },
            },
            timeout=120,
        ).json()
    assert json.loads(reply["choices"][0]["message"]["content"]) == {"killed": 10}
