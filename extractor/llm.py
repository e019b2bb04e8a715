"""The LLM client: any litellm model behind one call that returns a validated pydantic object.

OpenAI-compatible endpoints (OpenAI itself, the embedded server, any ``api_base``)
go straight through the openai SDK; every other provider goes through litellm.
An optional on-disk response cache answers repeated requests without a call,
and an optional rate limiter paces live calls.

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
import contextlib
import functools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import instructor
import litellm
import openai
from instructor.v2.core.errors import IncompleteOutputException, InstructorRetryException
from instructor.v2.core.function_calls import response_schema
from instructor.v2.validation import async_validators as instructor_async_validators
from openai.types.chat import ChatCompletion
from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from extractor.cache import ResponseCache, request_key
from extractor.cassettes import is_cassette_miss
from extractor.limits import RateLimiter
from extractor.schema import VALIDATION_CONTEXT, Usage

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

    def fingerprint(self) -> str:
        """What, besides the prompt and the article, decides a result: for resume keys."""
        endpoint = "" if self.model == EMBEDDED_MODEL else self.api_base or ""  # the embedded port changes every run
        return (
            f"{self.model}|{endpoint}|t={self.temperature}|max={self.max_tokens}"
            f"|reask={self.max_validation_retries}|{self.json_schema_style}"
        )

    @property
    def litellm_model(self) -> str:
        """The string litellm routes on; the embedded model is an OpenAI-compatible server."""
        return "openai/smollm2-135m" if self.model == EMBEDDED_MODEL else self.model


_reject_async_validators = instructor_async_validators.reject_async_validators


@functools.cache
def _reject_async_validators_once(response_model: Any) -> None:
    _reject_async_validators(response_model)


def _memoized_reject_async_validators(response_model: Any) -> None:
    """instructor walks the whole response model for async validators five times per call (a third of our
    per-call CPU); the answer depends only on the class, so it is computed once per class."""
    try:
        _reject_async_validators_once(response_model)
    except TypeError:  # an unhashable model description: check it the slow way
        _reject_async_validators(response_model)


instructor_async_validators.reject_async_validators = _memoized_reject_async_validators


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
    cache_hits: int = 0
    usage: Usage = field(default_factory=Usage)

    def record(self, response: Any, config: ModelConfig) -> None:
        self.calls += 1
        raw_usage = getattr(response, "usage", None)
        prompt = int(getattr(raw_usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(raw_usage, "completion_tokens", 0) or 0)
        self.usage = self.usage + Usage(
            prompt_tokens=prompt, completion_tokens=completion, cost_usd=_cost(response, config)
        )

    def record_cached(self) -> None:
        """An answer from the response cache: an attempt, but no tokens spent now."""
        self.calls += 1
        self.cache_hits += 1

    def record_failure(self) -> None:
        self.calls += 1
        self.failed_calls += 1


def _cost(response: Any, config: ModelConfig) -> float | None:
    if config.price_known_zero:
        return 0.0
    rates = _prices_per_token(config.litellm_model)
    if rates is None:
        return None
    usage = getattr(response, "usage", None)
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    return prompt * rates[0] + completion * rates[1]


@functools.cache
def _prices_per_token(model: str) -> tuple[float, float] | None:
    """USD per prompt token and per completion token from litellm's local price map; None if unpriced."""
    try:
        prompt, _ = litellm.cost_per_token(model=model, prompt_tokens=1_000_000, completion_tokens=0)
        _, completion = litellm.cost_per_token(model=model, prompt_tokens=0, completion_tokens=1_000_000)
    except Exception:  # litellm raises many types for an unpriced model
        return None
    return float(prompt) / 1_000_000, float(completion) / 1_000_000


class MalformedReply(RuntimeError):
    """The server answered 200 with a body that is not JSON: a server fault, retried like a 5xx."""


@contextlib.contextmanager
def _failures_counted(ledger: CallLedger) -> Iterator[None]:
    """Count a failed HTTP call; name a garbled body for what it is, a server fault."""
    try:
        yield
    except json.JSONDecodeError as exc:
        ledger.record_failure()
        raise MalformedReply(f"the server's reply is not JSON: {exc}") from exc
    except Exception:
        ledger.record_failure()
        raise


def is_transient(exc: BaseException) -> bool:
    """Worth retrying the same request: rate limits, server errors, timeouts, dropped connections, garbled bodies."""
    if is_cassette_miss(exc):
        return False
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, MalformedReply)):
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
    """Calls one configured model and returns validated objects. Create one per model and reuse it.

    Provider boundary: ``openai/...`` models (OpenAI itself, the embedded server and
    any OpenAI-compatible ``api_base``) go straight through the ``openai`` SDK with a
    pooled connection, which costs a third of litellm's per-call CPU; every other
    provider goes through litellm. Both return the same response shape to instructor.
    """

    def __init__(
        self, config: ModelConfig, *, cache: ResponseCache | None = None, limiter: RateLimiter | None = None
    ) -> None:
        self.config = config
        self.cache = cache
        self.limiter = limiter
        self._direct = config.litellm_model.startswith("openai/")
        self._sync_client: openai.OpenAI | None = None
        self._async_clients: dict[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = {}
        self._instructor = instructor.from_litellm(self._complete, mode=instructor.Mode.JSON_SCHEMA)
        self._ainstructor = instructor.from_litellm(
            self._acomplete, mode=instructor.Mode.JSON_SCHEMA, async_client=True
        )

    # --- one HTTP request ---------------------------------------------------------
    def _retrying_kwargs(self) -> dict[str, Any]:
        return {
            "retry": retry_if_exception(is_transient),
            "wait": _WaitRetryAfterOrBackoff(self.config.backoff_initial_s, self.config.backoff_max_s),
            "stop": stop_after_attempt(self.config.max_transport_retries + 1),
            "reraise": True,
            "before_sleep": _log_retry,
        }

    def _request_kwargs(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "model": self.config.litellm_model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }

    def _adapt(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The request as the provider wants it: llama.cpp servers take the schema as ``response_format.schema``."""
        fmt = kwargs.get("response_format")
        if self.config.json_schema_style == "llama.cpp" and isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            kwargs = {**kwargs, "response_format": {"type": "json_object", "schema": fmt["json_schema"]["schema"]}}
        return kwargs

    def _api_key(self) -> str | None:
        """The configured key; else none for local servers (which ignore it); else the SDK reads the environment."""
        if self.config.api_key:
            return self.config.api_key
        local = self.config.model == EMBEDDED_MODEL or (self.config.api_base and not os.environ.get("OPENAI_API_KEY"))
        return "no-key-needed" if local else None

    def _openai_kwargs(self, request: dict[str, Any]) -> dict[str, Any]:
        # The timeout is per HTTP call and set here, out of instructor's sight: instructor would
        # also use it as a deadline for all re-asks together.
        kwargs = {**request, "model": request["model"].removeprefix("openai/"), "timeout": self.config.timeout_s}
        if "response_format" in kwargs:
            # Sent as is: the SDK would otherwise walk the whole JSON schema on every call to "transform" it.
            kwargs["extra_body"] = {"response_format": kwargs.pop("response_format")}
        return kwargs

    def _litellm_kwargs(self, request: dict[str, Any]) -> dict[str, Any]:
        extra = {"api_base": self.config.api_base, "api_key": self._api_key()}
        # Retries are ours (tenacity), not the SDK's.
        return {**request, **{k: v for k, v in extra.items() if v}, "max_retries": 0, "timeout": self.config.timeout_s}

    def _sync_openai(self) -> openai.OpenAI:
        if self._sync_client is None:
            self._sync_client = openai.OpenAI(base_url=self.config.api_base, api_key=self._api_key(), max_retries=0)
        return self._sync_client

    def _async_openai(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        if loop not in self._async_clients:  # an httpx pool belongs to the loop that opened it
            self._async_clients[loop] = openai.AsyncOpenAI(
                base_url=self.config.api_base,
                api_key=self._api_key(),
                max_retries=0,
                http_client=openai.DefaultAioHttpClient(),
            )
        return self._async_clients[loop]

    def _cache_key(self, request: dict[str, Any]) -> str:
        endpoint = None if self.config.model == EMBEDDED_MODEL else self.config.api_base
        return request_key(self.config.model, endpoint, request)

    def _cached(self, request: dict[str, Any], ledger: CallLedger) -> tuple[str | None, Any]:
        if self.cache is None:
            return None, None
        key = self._cache_key(request)
        data = self.cache.get(key)
        if data is None:
            return key, None
        ledger.record_cached()
        return key, ChatCompletion.model_validate(data)

    def _keep(self, key: str | None, response: Any, ledger: CallLedger) -> Any:
        ledger.record(response, self.config)
        if key is not None and self.cache is not None:
            self.cache.put(key, response.model_dump(mode="json"))
        return response

    async def aclose(self) -> None:
        """Close the connection pool opened on the running event loop."""
        client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    # --- one structured answer, with re-asks --------------------------------------
    # The completion functions instructor calls. The call's ledger rides along in the request kwargs
    # (``ledger_``), so one instructor client per LLMClient serves every call.
    def _complete(self, **kwargs: Any) -> Any:
        ledger: CallLedger = kwargs.pop("ledger_")
        request = self._adapt(kwargs)
        key, cached = self._cached(request, ledger)
        if cached is not None:
            return cached
        for attempt in Retrying(**self._retrying_kwargs()):
            with attempt:
                with _failures_counted(ledger):
                    if self._direct:
                        response = self._sync_openai().chat.completions.create(**self._openai_kwargs(request))
                    else:
                        response = litellm.completion(**self._litellm_kwargs(request))
                return self._keep(key, response, ledger)
        raise AssertionError("unreachable: tenacity reraises")

    async def _acomplete(self, **kwargs: Any) -> Any:
        ledger: CallLedger = kwargs.pop("ledger_")
        request = self._adapt(kwargs)
        key, cached = self._cached(request, ledger)
        if cached is not None:
            return cached
        async for attempt in AsyncRetrying(**self._retrying_kwargs()):
            with attempt:
                if self.limiter is not None:
                    await self.limiter.acquire(estimate_request_tokens(request, self.config.max_tokens))
                with _failures_counted(ledger):
                    if self._direct:
                        response = await self._async_openai().chat.completions.create(**self._openai_kwargs(request))
                    else:
                        response = await litellm.acompletion(**self._litellm_kwargs(request))
                return self._keep(key, response, ledger)
        raise AssertionError("unreachable: tenacity reraises")

    def create(
        self, response_model: type[T], messages: list[dict[str, str]], context: dict[str, Any]
    ) -> tuple[T, CallLedger]:
        """Ask for ``response_model``; re-ask on validation errors; raise :class:`LLMError` when out of tries."""
        ledger = CallLedger()
        token = VALIDATION_CONTEXT.set(context)
        try:
            result = self._instructor.chat.completions.create(
                response_model=_instructor_model(response_model),
                max_retries=self.config.max_validation_retries,
                ledger_=ledger,
                **self._request_kwargs(messages),
            )
        except Exception as exc:
            raise LLMError(_describe(exc, ledger), ledger) from exc
        finally:
            VALIDATION_CONTEXT.reset(token)
        return result, ledger

    async def acreate(
        self, response_model: type[T], messages: list[dict[str, str]], context: dict[str, Any]
    ) -> tuple[T, CallLedger]:
        """Async twin of :meth:`create`; waits on the rate limiter before every live call."""
        ledger = CallLedger()
        token = VALIDATION_CONTEXT.set(context)  # this task's own context: safe with many tasks in flight
        try:
            result = await self._ainstructor.chat.completions.create(
                response_model=_instructor_model(response_model),
                max_retries=self.config.max_validation_retries,
                ledger_=ledger,
                **self._request_kwargs(messages),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise LLMError(_describe(exc, ledger), ledger) from exc
        finally:
            VALIDATION_CONTEXT.reset(token)
        return result, ledger


def estimate_request_tokens(request: dict[str, Any], max_tokens: int) -> int:
    """Prompt tokens (about three characters each) plus the most the answer may take: what a TPM quota counts."""
    return sum(len(str(m.get("content", ""))) for m in request.get("messages", [])) // 3 + max_tokens


def _describe(exc: BaseException, ledger: CallLedger) -> str:
    """One line a user can act on, naming the root cause rather than instructor's wrapper."""
    root: BaseException = exc
    if isinstance(exc, InstructorRetryException) and exc.__context__ is not None:
        root = exc.__context__
    if isinstance(exc, IncompleteOutputException):
        return f"the model's answer was cut off at max_tokens after {ledger.calls} call(s); raise --max-tokens"
    if is_cassette_miss(exc):
        return "this request is not in the cassette (the prompt, article or model changed since recording); re-record with --cassettes rerecord"
    if isinstance(root, openai.OpenAIError) and "api_key" in str(root):
        return "no API key for the provider: set its key variable, e.g. OPENAI_API_KEY (keys are never logged)"
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
