"""The Python API: extract / aextract, refusing what does not fit, and failures that name the article."""

from __future__ import annotations

import pytest

from extractor import Article, ExtractionError, Extractor, aextract, extract, load_article
from tests.conftest import CASSETTES, SEEDS


def test_too_long_article_is_refused_not_truncated(no_network: list[object]) -> None:
    article = Article(id="long-one", text="Clashes continued in Arsal. " * 2000)
    with pytest.raises(ExtractionError) as info:
        extract(article, model="embedded", cassettes="replay", cassette_dir=CASSETTES)
    message = str(info.value)
    assert message.startswith("article long-one: the article is about")
    assert "over the 8192-token context of embedded/smollm2-135m; it was not truncated" in message
    assert info.value.result.attempts == 0 and no_network == []


def test_empty_text_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="empty or whitespace only"):
        extract("   ", model="embedded")


async def test_async_replay_gives_the_same_result_as_sync(no_network: list[object]) -> None:
    article = load_article(SEEDS / "003_20071cb5d29d02dd.txt")
    options = {"model": "embedded", "cassettes": "replay", "cassette_dir": CASSETTES}
    sync_result = extract(article, **options)  # type: ignore[arg-type]
    async_result = await aextract(article, **options)  # type: ignore[arg-type]
    assert async_result.model_dump(exclude={"latency_s"}) == sync_result.model_dump(exclude={"latency_s"})


def test_replayed_record_is_canonicalized_and_grounded() -> None:
    with Extractor(model="embedded", cassettes="replay", cassette_dir=CASSETTES) as ex:
        result = ex.extract(load_article(SEEDS / "003_20071cb5d29d02dd.txt"))
    quotes = [q for event in result.events for q in event.evidence]
    assert quotes and all(q.grounded is not None for q in quotes)
    for q in quotes:
        if q.grounded:
            assert q.start is not None and q.end is not None
    assert result.grounding_rate is not None
