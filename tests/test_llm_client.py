"""The LLM client against a scripted server: transport retries, Retry-After, re-asks, accounting."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openai
import pytest

from extractor.cache import ResponseCache
from extractor.llm import LLMClient, LLMError, ModelConfig, resolve_model_name, retry_after_seconds
from extractor.schema import EventList
from tests.fake_llm import Reply, completion, fake_llm

MESSAGES = [{"role": "user", "content": "Ten Nusra Front fighters were killed Sunday."}]
VALID = json.dumps(
    {
        "events": [
            {
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "actor1": {"name": "Nusra Front"},
                "actor2": {"name": "ISIS"},
                "fatalities": {"best": 10, "low": 10, "high": 10},
                "evidence": [{"quote": "Ten Nusra Front fighters were killed Sunday."}],
                "summary": "Nusra Front lost ten fighters.",
            }
        ]
    }
)
INVALID = VALID.replace('"low": 10', '"low": 12')  # low > best


def config(api_base: str, **overrides: object) -> ModelConfig:
    base = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, "api_key": "test-key-not-real"}
    return ModelConfig(model="openai/fake", api_base=api_base, **{**base, **overrides})  # type: ignore[arg-type]


def test_rate_limit_and_server_error_are_retried_and_counted() -> None:
    replies = [
        Reply(429, {"error": {"message": "slow down"}}, {"retry-after": "0.02"}),
        Reply(503, {"error": "busy"}),
        completion(VALID),
    ]
    with fake_llm(replies) as server:
        result, ledger = LLMClient(config(server.api_base)).create(EventList, MESSAGES, {})
    assert result.events[0].fatalities.best == 10
    assert (ledger.calls, ledger.failed_calls) == (3, 2)
    assert (ledger.usage.prompt_tokens, ledger.usage.completion_tokens) == (100, 20)
    assert len(server.requests) == 3


def test_retry_after_header_is_read_from_the_error() -> None:
    with fake_llm([Reply(429, {"error": "x"}, {"retry-after": "7"})]) as server:
        client = openai.OpenAI(base_url=server.api_base, api_key="k", max_retries=0)
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert retry_after_seconds(info.value) == 7.0


def test_validation_error_is_sent_back_to_the_model_and_tokens_add_up() -> None:
    with fake_llm([completion(INVALID, 100, 40), completion(VALID, 150, 30)]) as server:
        result, ledger = LLMClient(config(server.api_base)).create(EventList, MESSAGES, {})
    assert result.events[0].fatalities.low == 10
    assert (ledger.calls, ledger.usage.prompt_tokens, ledger.usage.completion_tokens) == (2, 250, 70)
    reask = server.requests[1]["messages"]
    assert reask[1] == {"role": "assistant", "content": INVALID}
    assert "fatalities.low (12) is greater than fatalities.best (10)" in reask[2]["content"]


def test_model_that_never_validates_fails_with_a_clear_error_and_its_cost() -> None:
    with fake_llm([completion(INVALID)] * 3) as server, pytest.raises(LLMError) as info:
        LLMClient(config(server.api_base, max_validation_retries=2)).create(EventList, MESSAGES, {})
    assert str(info.value).startswith("no valid record after 3 attempt(s); last validation error:")
    assert "fatalities.low (12) is greater than fatalities.best (10)" in str(info.value)
    assert (info.value.ledger.calls, info.value.ledger.usage.total_tokens) == (3, 360)


def test_server_that_keeps_failing_gives_up_after_the_retry_budget() -> None:
    with fake_llm([Reply(500, {"error": "boom"})] * 10) as server, pytest.raises(LLMError) as info:
        LLMClient(config(server.api_base, max_transport_retries=2)).create(EventList, MESSAGES, {})
    assert len(server.requests) == 3
    assert str(info.value).startswith("the model's server kept failing after 3 call(s): InternalServerError")


def test_a_call_that_times_out_is_retried() -> None:
    with fake_llm([Reply(200, {"late": True}, delay_s=1.5), completion(VALID)]) as server:
        result, ledger = LLMClient(config(server.api_base, timeout_s=0.5)).create(EventList, MESSAGES, {})
    assert result.events[0].fatalities.best == 10
    assert (ledger.calls, ledger.failed_calls) == (2, 1)


def test_bad_request_is_not_retried() -> None:
    with fake_llm([Reply(400, {"error": {"message": "bad"}})] * 3) as server, pytest.raises(LLMError):
        LLMClient(config(server.api_base)).create(EventList, MESSAGES, {})
    assert len(server.requests) == 1


def test_schema_is_sent_in_llama_cpp_form_to_the_embedded_style_server() -> None:
    with fake_llm([completion(VALID)]) as server:
        LLMClient(config(server.api_base, json_schema_style="llama.cpp")).create(EventList, MESSAGES, {})
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"]["title"] == "EventList"


def test_model_choice_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXTRACTOR_MODEL", raising=False)
    assert resolve_model_name(None) == "embedded/smollm2-135m"
    monkeypatch.setenv("EXTRACTOR_MODEL", "openai/gpt-4o-mini")
    assert resolve_model_name(None) == "openai/gpt-4o-mini"
    assert resolve_model_name("anthropic/claude-3-5-haiku-latest") == "anthropic/claude-3-5-haiku-latest"
    assert resolve_model_name("embedded") == "embedded/smollm2-135m"


async def test_async_twin_retries_and_counts_the_same_way() -> None:
    with fake_llm([Reply(502, {"error": "gw"}), completion(INVALID), completion(VALID)]) as server:
        client = LLMClient(config(server.api_base))
        result, ledger = await client.acreate(EventList, MESSAGES, {})
        await client.aclose()
    assert result.events[0].actor1.name == "Nusra Front"
    assert (ledger.calls, ledger.failed_calls) == (3, 1)


def test_article_text_with_template_syntax_is_sent_verbatim() -> None:
    text = "Clashes in {{ town }} killed {% if x %}5{% endif %} fighters. {#note#}"
    with fake_llm([completion(VALID)]) as server:
        LLMClient(config(server.api_base)).create(EventList, [{"role": "user", "content": text}], {"published": None})
    assert server.requests[0]["messages"][-1]["content"] == text


def test_publication_date_check_reaches_the_model_as_a_reask() -> None:
    future = VALID.replace('"summary"', '"date": {"start": "2016-04-02", "end": "2016-04-02"}, "summary"')
    with fake_llm([completion(future), completion(VALID)]) as server:
        _, ledger = LLMClient(config(server.api_base)).create(EventList, MESSAGES, {"published": dt.date(2016, 3, 29)})
    assert ledger.calls == 2
    assert "after the article's publication date (2016-03-29)" in server.requests[1]["messages"][-1]["content"]


class CountingLimiter:
    """Stands in for the rate limiter to see what each live call asks of it."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    async def acquire(self, tokens: int) -> None:
        self.asked.append(tokens)


async def test_rate_limiter_is_asked_before_every_live_call_with_the_token_estimate() -> None:
    limiter = CountingLimiter()
    with fake_llm([Reply(500, {"error": "x"}), completion(INVALID), completion(VALID)]) as server:
        client = LLMClient(config(server.api_base, max_tokens=100), limiter=limiter)  # type: ignore[arg-type]
        await client.acreate(EventList, MESSAGES, {})
        await client.aclose()
    assert len(limiter.asked) == 3  # the failed call, the rejected answer and the good one
    assert limiter.asked[0] == len(MESSAGES[0]["content"]) // 3 + 100


async def test_cached_answers_skip_the_server_and_the_limiter(tmp_path: Path) -> None:
    limiter = CountingLimiter()
    cache = ResponseCache(tmp_path)
    with fake_llm([completion(VALID)]) as server:
        first = LLMClient(config(server.api_base), cache=cache, limiter=limiter)  # type: ignore[arg-type]
        await first.acreate(EventList, MESSAGES, {})
        await first.aclose()
        second = LLMClient(config(server.api_base), cache=cache, limiter=limiter)  # type: ignore[arg-type]
        result, ledger = await second.acreate(EventList, MESSAGES, {})
    assert len(server.requests) == 1 and len(limiter.asked) == 1
    assert (ledger.calls, ledger.cache_hits, ledger.usage.total_tokens) == (1, 1, 0)
    assert result.events[0].fatalities.best == 10
