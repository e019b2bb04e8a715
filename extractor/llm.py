"""The LLM client: any litellm model behind one call that returns a validated pydantic object.

Three layers of resilience, each with one job:

* transport: tenacity retries a single HTTP call on 429, 5xx, timeouts and
  dropped connections, with exponential backoff and jitter, waiting the
  server's ``Retry-After`` when it gives one;
* validation: instructor re-asks the model with the validation error when the
  answer does not fit the schema (``max_validation_retries``);
* accounting: every response that comes back, from whichever attempt, adds its
  tokens and cost to a :class:`CallLedger`, so retries are never free in the
  numbers we report.

Model choice: an explicit argument, else ``$EXTRACTOR_MODEL``, else the
embedded offline model. API keys come from the provider's usual environment
variable (``OPENAI_API_KEY``...) or ``ModelConfig.api_key`` and are never
logged.
"""

from __future__ import annotations

import os

# Must be set before litellm is imported: it otherwise fetches its price map over the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import asyncio
import functools
import logging
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import instructor
import litellm
import openai
from instructor.v2.core.errors import IncompleteOutputException, InstructorRetryException
from instructor.v2.core.function_calls import response_schema
from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from extractor.cassettes import is_cassette_miss
from extractor.schema import Usage

litellm.disable_aiohttp_transport = True  # keep async calls on httpx, which cassettes can record
litellm.telemetry = False
litellm.suppress_debug_info = True

log = logging.getLogger(__name__)

EMBEDDED_MODEL = "embedded/smollm2-135m"
MODEL_ENV_VAR = "EXTRACTOR_MODEL"
T = TypeVar("T", bound=BaseModel)


def resolve_model_name(explicit: str | None = None) -> str:
    """Explicit argument, else ``$EXTRACTOR_MODEL``, else the embedded model."""
    name = explicit or os.environ.get(MODEL_ENV_VAR) or EMBEDDED_MODEL
    return EMBEDDED_MODEL if name in {"embedded", EMBEDDED_MODEL} else name


def is_embedded(model: str) -> bool:
    return resolve_model_name(model) == EMBEDDED_MODEL


@dataclass(frozen=True)
class ModelConfig:
    """Which model to call and how. Passed explicitly; nothing is read from hidden globals.

    ``model`` is a litellm model string (``openai/gpt-4o-mini``,
    ``anthropic/claude-3-5-haiku-latest``, ``ollama/llama3.1``) or ``embedded``.
    ``api_base`` points at any OpenAI-compatible server (use an ``openai/`` model string).
    ``json_schema_style`` says how the server wants a JSON schema: ``"openai"``
    (``response_format.json_schema``) or ``"llama.cpp"`` (``response_format.schema``).
    """

    model: str = EMBEDDED_MODEL
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.0
    max_tokens: int = 2048
    timeout_s: float = 300.0
    max_transport_retries: int = 4
    max_validation_retries: int = 2
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    context_window: int | None = None
    json_schema_style: str = "openai"
    price_known_zero: bool = False

    @classmethod
    def for_model(cls, model: str | None = None, **overrides: Any) -> ModelConfig:
        name = resolve_model_name(model)
        if name == EMBEDDED_MODEL:
            # The embedded server is started by the pipeline, which fills in api_base.
            base = cls(model=name, json_schema_style="llama.cpp", price_known_zero=True, context_window=8192)
            return replace(base, **overrides)
        return cls(model=name, **overrides)

    @property
    def litellm_model(self) -> str:
        """The string litellm routes on; the embedded model is an OpenAI-compatible server."""
        return "openai/smollm2-135m" if self.model == EMBEDDED_MODEL else self.model


@functools.cache
def _instructor_model(response_model: type[T]) -> type[T]:
    """instructor wraps the response model in a new class on every call unless given one already wrapped;
    wrapping once lets the (cached) JSON schema be reused instead of rebuilt for each request."""
    return response_schema(response_model)


class LLMError(RuntimeError):
    """The model could not give a valid answer; carries what was spent getting there."""

    def __init__(self, message: str, ledger: CallLedger) -> None:
        super().__init__(message)
        self.ledger = ledger


@dataclass
class CallLedger:
    """Counts every LLM call made for one request: responses, failures, tokens and cost."""

    calls: int = 0
    failed_calls: int = 0
    usage: Usage = field(default_factory=Usage)

    def record(self, response: Any, config: ModelConfig) -> None:
        self.calls += 1
        raw_usage = getattr(response, "usage", None)
        prompt = int(getattr(raw_usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(raw_usage, "completion_tokens", 0) or 0)
        self.usage = self.usage + Usage(
            prompt_tokens=prompt, completion_tokens=completion, cost_usd=_cost(response, config)
        )

    def record_failure(self) -> None:
        self.calls += 1
        self.failed_calls += 1


def _cost(response: Any, config: ModelConfig) -> float | None:
    if config.price_known_zero:
        return 0.0
    try:
        return float(litellm.completion_cost(completion_response=response))
    except Exception:  # litellm raises many types for an unpriced model
        return None


def is_transient(exc: BaseException) -> bool:
    """Worth retrying the same request: rate limits, server errors, timeouts, dropped connections."""
    if is_cassette_miss(exc):
        return False
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The server's Retry-After (seconds form), if the error carries one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class _WaitRetryAfterOrBackoff:
    """Wait what the server asked for; otherwise exponential backoff with jitter."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._backoff = wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)
        self._maximum = maximum

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(exc)
        if asked is not None:
            return min(max(asked, 0.0), self._maximum)
        return float(self._backoff(state))


class LLMClient:
    """Calls one configured model and returns validated objects. Safe to share across threads and tasks."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config

    def _retrying_kwargs(self) -> dict[str, Any]:
        return {
            "retry": retry_if_exception(is_transient),
            "wait": _WaitRetryAfterOrBackoff(self.config.backoff_initial_s, self.config.backoff_max_s),
            "stop": stop_after_attempt(self.config.max_transport_retries + 1),
            "reraise": True,
            "before_sleep": _log_retry,
        }

    def _request_kwargs(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.config.litellm_model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        if self.config.api_base:
            kwargs["api_base"] = self.config.api_base
        if self.config.api_key:
            kwargs["api_key"] = self.config.api_key
        elif self.config.model == EMBEDDED_MODEL:
            kwargs["api_key"] = "no-key-needed"
        return kwargs

    def _adapt(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Provider boundary: llama.cpp servers take the schema as ``response_format.schema``."""
        fmt = kwargs.get("response_format")
        if self.config.json_schema_style == "llama.cpp" and isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            kwargs = {**kwargs, "response_format": {"type": "json_object", "schema": fmt["json_schema"]["schema"]}}
        # Retries are ours (tenacity), not the SDK's. The timeout is per HTTP call and set here, out of
        # instructor's sight: instructor would also use it as a deadline for all re-asks together.
        return {**kwargs, "max_retries": 0, "timeout": self.config.timeout_s}

    def create(
        self, response_model: type[T], messages: list[dict[str, str]], context: dict[str, Any]
    ) -> tuple[T, CallLedger]:
        """Ask for ``response_model``; re-ask on validation errors; raise :class:`LLMError` when out of tries."""
        ledger = CallLedger()

        def completion(**kwargs: Any) -> Any:
            for attempt in Retrying(**self._retrying_kwargs()):
                with attempt:
                    try:
                        response = litellm.completion(**self._adapt(kwargs))
                    except Exception:
                        ledger.record_failure()
                        raise
                    ledger.record(response, self.config)
                    return response
            raise AssertionError("unreachable: tenacity reraises")

        client = instructor.from_litellm(completion, mode=instructor.Mode.JSON_SCHEMA)
        try:
            result = client.chat.completions.create(
                response_model=_instructor_model(response_model),
                max_retries=self.config.max_validation_retries,
                context=context,
                **self._request_kwargs(messages),
            )
        except Exception as exc:
            raise LLMError(_describe(exc, ledger), ledger) from exc
        return result, ledger

    async def acreate(
        self, response_model: type[T], messages: list[dict[str, str]], context: dict[str, Any]
    ) -> tuple[T, CallLedger]:
        """Async twin of :meth:`create`."""
        ledger = CallLedger()

        async def completion(**kwargs: Any) -> Any:
            async for attempt in AsyncRetrying(**self._retrying_kwargs()):
                with attempt:
                    try:
                        response = await litellm.acompletion(**self._adapt(kwargs))
                    except Exception:
                        ledger.record_failure()
                        raise
                    ledger.record(response, self.config)
                    return response
            raise AssertionError("unreachable: tenacity reraises")

        client = instructor.from_litellm(completion, mode=instructor.Mode.JSON_SCHEMA, async_client=True)
        try:
            result = await client.chat.completions.create(
                response_model=_instructor_model(response_model),
                max_retries=self.config.max_validation_retries,
                context=context,
                **self._request_kwargs(messages),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise LLMError(_describe(exc, ledger), ledger) from exc
        return result, ledger


def _describe(exc: BaseException, ledger: CallLedger) -> str:
    """One line a user can act on, naming the root cause rather than instructor's wrapper."""
    root: BaseException = exc
    if isinstance(exc, InstructorRetryException) and exc.__context__ is not None:
        root = exc.__context__
    if isinstance(exc, IncompleteOutputException):
        return f"the model's answer was cut off at max_tokens after {ledger.calls} call(s); raise --max-tokens"
    if is_cassette_miss(exc):
        return "this request is not in the cassette (the prompt, article or model changed since recording); re-record with --cassettes rerecord"
    if isinstance(root, openai.AuthenticationError):
        return "the provider rejected the API key (401); set the provider's key variable, e.g. OPENAI_API_KEY"
    if is_transient(root):
        return f"the model's server kept failing after {ledger.calls} call(s): {type(root).__name__}: {_short(root)}"
    if ledger.calls and not ledger.failed_calls:
        return f"no valid record after {ledger.calls} attempt(s); last validation error: {_short(root)}"
    return f"{type(root).__name__}: {_short(root)}"


def _short(exc: BaseException, limit: int = 400) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0
    log.warning("LLM call failed (%s); retry %d in %.1fs", type(exc).__name__, state.attempt_number, wait)
