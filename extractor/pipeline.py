"""The extraction pipeline: article -> prompt -> LLM -> validated records -> grounding -> result.

Data flows one way. Each step is a function of its inputs and the
configuration passed in; nothing reaches back into an earlier layer.
:class:`Extractor` holds what is worth keeping across articles (the loaded
prompt, the alias table, the embedded model server); :func:`extract` and
:func:`aextract` are the one-call versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from extractor.actors import AliasTable
from extractor.articles import Article, ArticleError, article_from_text
from extractor.cache import ResponseCache
from extractor.cassettes import (
    CassetteMissing,
    CassetteMode,
    CassetteUnused,
    cassette_path,
    needs_network,
    use_cassette,
)
from extractor.dates import settle_date
from extractor.embedded import QUALITY_WARNING, EmbeddedServer
from extractor.grounding import ground_events
from extractor.limits import RateLimiter
from extractor.llm import CallLedger, LLMClient, LLMError, ModelConfig, is_embedded
from extractor.prompts import Message, PromptVersion
from extractor.schema import Event, EventList, ExtractionResult

DEFAULT_CASSETTE_DIR = Path(__file__).resolve().parent.parent / "cassettes"
CHARS_PER_TOKEN = 3.0  # conservative for English news text; errs towards refusing, never towards truncating
REPLAY_API_BASE = "http://127.0.0.1:9/v1"  # never contacted: replay answers from the cassette


class ExtractionError(RuntimeError):
    """One article could not be turned into records. ``result`` holds the failure as it is written to output."""

    def __init__(self, result: ExtractionResult) -> None:
        super().__init__(f"article {result.article_id}: {result.error}")
        self.result = result


class ContextTooLong(ValueError):
    """The article does not fit the model's context window; it is refused, never truncated."""


def estimate_tokens(messages: list[Message]) -> int:
    return int(sum(len(m["content"]) for m in messages) / CHARS_PER_TOKEN) + 8 * len(messages)


def postprocess(article: Article, events: list[Event], aliases: AliasTable) -> tuple[list[Event], list[str]]:
    """What the code, not the model, decides: canonical actors, settled dates, grounded evidence."""
    warnings_: list[str] = []
    settled: list[Event] = []
    for n, event in enumerate(events):
        event = aliases.canonicalize_event(event)
        date, warning = settle_date(event.date, article.published)
        if warning:
            warnings_.append(f"event {n}: {warning}")
        settled.append(event.model_copy(update={"date": date}))
    grounded, grounding_warnings = ground_events(article.text, settled)
    return grounded, warnings_ + grounding_warnings


class Extractor:
    """Extracts events from articles with one model and one prompt version.

    Use it as a context manager when the model is the embedded one, so its
    server is started once and stopped at the end::

        with Extractor(model="embedded", prompt="v1") as ex:
            result = ex.extract(article)
    """

    def __init__(
        self,
        model: str | None = None,
        prompt: str = "v1",
        *,
        config: ModelConfig | None = None,
        cassettes: CassetteMode | str = CassetteMode.OFF,
        cassette_dir: Path | None = None,
        prompts_dir: Path | None = None,
        aliases: AliasTable | None = None,
        cache: ResponseCache | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.config = config or ModelConfig.for_model(model)
        self.prompt = PromptVersion.load(prompt, prompts_dir)
        self.cassette_mode = CassetteMode(cassettes)
        self.cassette_dir = cassette_dir or DEFAULT_CASSETTE_DIR
        self.aliases = aliases or AliasTable.load()
        # A cached answer would leave a cassette being recorded without its exchange: cassettes win.
        self.cache = cache if self.cassette_mode is CassetteMode.OFF else None
        self.limiter = limiter
        self._server: EmbeddedServer | None = None
        self._lock = threading.Lock()
        self._clients: dict[ModelConfig, LLMClient] = {}
        self._embedded = is_embedded(self.config.model) and self.config.api_base is None
        if is_embedded(self.config.model):
            warnings.warn(QUALITY_WARNING, UserWarning, stacklevel=2)

    # --- lifecycle -------------------------------------------------------
    def __enter__(self) -> Extractor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Extractor:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
        self.close()

    async def aclose(self) -> None:
        """Close the connection pools this event loop opened; call before the loop ends."""
        for client in self._clients.values():
            await client.aclose()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _client_for(self, article: Article) -> LLMClient:
        """The client for this article; starts the embedded server only when a live call is coming."""
        config = self.config
        if self._embedded:
            path = cassette_path(self.cassette_dir, article.id, self.prompt.version, config.model)
            if needs_network(self.cassette_mode, path):
                with self._lock:
                    if self._server is None:
                        self._server = EmbeddedServer().start()
                config = replace(config, api_base=self._server.api_base)
            else:
                config = replace(config, api_base=REPLAY_API_BASE)
        with self._lock:  # workers may get here at once from threads: one client per config, or pools leak
            if config not in self._clients:
                self._clients[config] = LLMClient(config, cache=self.cache, limiter=self.limiter)
            return self._clients[config]

    def result_key(self, article: Article) -> str:
        """Identifies a result: same article text, prompt, model and parameters give the same key."""
        parts = [article.content_hash, self.prompt.content_hash, self.config.fingerprint()]
        return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:24]

    # --- steps -------------------------------------------------------------
    def render(self, article: Article) -> list[Message]:
        """The prompt for one article, after checking that it fits the model's context."""
        messages = self.prompt.render(article)
        window = self.config.context_window or _known_context_window(self.config.litellm_model)
        if window is not None:
            needed = estimate_tokens(messages) + self.config.max_tokens
            if needed > window:
                raise ContextTooLong(
                    f"the article is about {needed - self.config.max_tokens} tokens with the prompt and needs "
                    f"{self.config.max_tokens} more for the answer, over the {window}-token context of {self.config.model}; "
                    "it was not truncated: split it into shorter articles or use a model with a longer context"
                )
        return messages

    def _finish(self, article: Article, events: list[Event], ledger: CallLedger, started: float) -> ExtractionResult:
        events, notes = postprocess(article, events, self.aliases)
        return self._result(article, ledger, started, events=events, warnings=notes)

    def _failure(self, article: Article, error: str, ledger: CallLedger | None, started: float) -> ExtractionError:
        return ExtractionError(self._result(article, ledger or CallLedger(), started, status="failed", error=error))

    def failed_result(self, article: Article, error: str) -> ExtractionResult:
        """A failure recorded for ``article`` with nothing spent."""
        return self._result(article, CallLedger(), time.monotonic(), status="failed", error=error)

    def _result(self, article: Article, ledger: CallLedger, started: float, **fields: Any) -> ExtractionResult:
        return ExtractionResult(
            article_id=article.id,
            prompt_version=self.prompt.version,
            prompt_hash=self.prompt.content_hash,
            model=self.config.model,
            usage=ledger.usage,
            attempts=ledger.calls,
            cache_hits=ledger.cache_hits,
            latency_s=round(time.monotonic() - started, 3),
            key=self.result_key(article),
            **fields,
        )

    # --- public ------------------------------------------------------------
    def extract(self, article: Article | str) -> ExtractionResult:
        """Extract one article; raise :class:`ExtractionError` (naming the article) if it fails."""
        article = _as_article(article)
        started = time.monotonic()
        try:
            messages = self.render(article)
            client = self._client_for(article)  # outside the cassette: server start-up is not an LLM call
            with self._cassette(article):
                payload, ledger = client.create(EventList, messages, _context(article))
        except (ContextTooLong, CassetteMissing, CassetteUnused) as exc:
            raise self._failure(article, str(exc), None, started) from exc
        except LLMError as exc:
            raise self._failure(article, str(exc), exc.ledger, started) from exc
        return self._finish(article, payload.events, ledger, started)

    async def aextract(self, article: Article | str) -> ExtractionResult:
        """Async twin of :meth:`extract`."""
        article = _as_article(article)
        started = time.monotonic()
        try:
            messages = self.render(article)
            starting_server = self._embedded and self._server is None
            # Starting the embedded server blocks for seconds: off the event loop. Otherwise no thread hop.
            client = (
                await asyncio.to_thread(self._client_for, article) if starting_server else self._client_for(article)
            )
            async with self._acassette(article):
                payload, ledger = await client.acreate(EventList, messages, _context(article))
        except (ContextTooLong, CassetteMissing, CassetteUnused) as exc:
            raise self._failure(article, str(exc), None, started) from exc
        except LLMError as exc:
            raise self._failure(article, str(exc), exc.ledger, started) from exc
        return self._finish(article, payload.events, ledger, started)

    def extract_many(self, articles: Iterable[Article | str]) -> Iterator[ExtractionResult]:
        """Extract each article in turn; a failure is yielded as a failed result and the run goes on."""
        for article in articles:
            try:
                yield self.extract(article)
            except ExtractionError as exc:
                yield exc.result

    def _cassette(self, article: Article) -> contextlib.AbstractContextManager[None]:
        return use_cassette(self.cassette_mode, self.cassette_dir, article.id, self.prompt.version, self.config.model)

    @contextlib.asynccontextmanager
    async def _acassette(self, article: Article) -> AsyncIterator[None]:
        with self._cassette(article):
            yield


def _as_article(article: Article | str) -> Article:
    if isinstance(article, Article):
        return article
    if isinstance(article, str):
        return article_from_text(article)
    raise ArticleError(f"expected an Article or the article text as str, got {type(article).__name__}")


def _context(article: Article) -> dict[str, Any]:
    return {"published": article.published}


@functools.cache
def _known_context_window(model: str) -> int | None:
    import litellm

    try:
        info = litellm.get_model_info(model)
    except Exception:  # unknown to litellm's local price map: we cannot check, the provider will
        return None
    window = info.get("max_input_tokens") or info.get("max_tokens")
    return int(window) if window else None


def extract(
    article: Article | str, *, model: str | None = None, prompt: str = "v1", **options: Any
) -> ExtractionResult:
    """Extract the events of one article (text or :class:`Article`) and return the result.

    ``model`` is any litellm model string, or ``embedded`` (the default when
    neither it nor ``$EXTRACTOR_MODEL`` is set). Raises :class:`ExtractionError`
    naming the article when no valid record could be had.
    """
    with Extractor(model, prompt, **options) as extractor:
        return extractor.extract(article)


async def aextract(
    article: Article | str, *, model: str | None = None, prompt: str = "v1", **options: Any
) -> ExtractionResult:
    """Async twin of :func:`extract`."""
    async with Extractor(model, prompt, **options) as extractor:
        return await extractor.aextract(article)
