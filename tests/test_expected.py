"""The hand-coded expected events in seeds/expected/ (see seeds/GUIDELINES.md) are well formed.

Each seed article has an expected file, every expected event validates against the
schema with the article's publication date, every evidence quote is a verbatim
substring of the article (and never from 004's reader comments), and every actor
name is the canonical one from the alias table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.actors import AliasTable
from extractor.articles import Article, load_article
from extractor.schema import Event
from tests.conftest import SEED_FILES, SEEDS

EXPECTED = SEEDS / "expected"
COMMENTS_ARTICLE = "004_32894de17cdd8ad9"
COMMENTS_MARKER = "Comments 12"


def _expected(seed: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXPECTED / f"{seed.stem}.json").read_text(encoding="utf-8"))
    return data


def _events(seed: Path) -> tuple[Article, list[dict[str, Any]]]:
    return load_article(seed), _expected(seed)["events"]


def _comments_start(text: str) -> int:
    """Offset of the line starting 'Comments 12': everything from there on is reader comments."""
    for offset, line in _lines_with_offsets(text):
        if line.startswith(COMMENTS_MARKER):
            return offset
    raise AssertionError(f"no line starting {COMMENTS_MARKER!r} in {COMMENTS_ARTICLE}")


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    out, offset = [], 0
    for line in text.splitlines(keepends=True):
        out.append((offset, line))
        offset += len(line)
    return out


seed_ids = pytest.mark.parametrize("seed", SEED_FILES, ids=[p.stem for p in SEED_FILES])


def test_there_are_five_seeds() -> None:
    assert len(SEED_FILES) == 5


@seed_ids
def test_every_seed_has_an_expected_file_named_for_it(seed: Path) -> None:
    path = EXPECTED / f"{seed.stem}.json"
    assert path.exists(), f"{seed.name} has no expected file at {path}"
    data = _expected(seed)
    assert set(data) == {"article_id", "notes", "events"}
    assert data["article_id"] == seed.stem
    assert isinstance(data["notes"], list) and all(isinstance(n, str) and n for n in data["notes"])
    assert isinstance(data["events"], list)


def test_no_expected_file_without_a_seed() -> None:
    assert sorted(p.stem for p in EXPECTED.glob("*.json")) == [p.stem for p in SEED_FILES]


@seed_ids
def test_events_validate_with_the_publication_date(seed: Path) -> None:
    article, events = _events(seed)
    for i, obj in enumerate(events):
        event = Event.model_validate(obj, context={"published": article.published})
        if article.published is None:
            assert event.date.start is None and event.date.end is None, (
                f"{seed.stem} event {i}: publication date unknown, so relative dates stay unresolved"
            )


@seed_ids
def test_evidence_quotes_are_verbatim_and_short(seed: Path) -> None:
    article, events = _events(seed)
    for i, obj in enumerate(events):
        evidence = obj["evidence"]
        assert 1 <= len(evidence) <= 3, f"{seed.stem} event {i}: give 1-3 evidence quotes"
        for item in evidence:
            assert set(item) == {"quote"}, f"{seed.stem} event {i}: evidence holds only the quote"
            quote = item["quote"]
            assert len(quote) <= 300
            assert quote in article.text, f"{seed.stem} event {i}: quote not in the article: {quote!r}"


@seed_ids
def test_actor_names_are_canonical(seed: Path) -> None:
    table = AliasTable.load()
    _, events = _events(seed)
    for i, obj in enumerate(events):
        for key in ("actor1", "actor2"):
            actor = obj.get(key)
            if actor is None:
                continue
            name = actor["name"]
            assert table.canonical_name(name) == name, f"{seed.stem} event {i} {key}: use the canonical name"
            found = table.lookup(name)
            if found is not None:
                assert actor.get("category") == found.category.value, f"{seed.stem} event {i} {key}: category"


def test_no_evidence_from_the_reader_comments() -> None:
    seed = SEEDS / f"{COMMENTS_ARTICLE}.txt"
    article, events = _events(seed)
    cut = _comments_start(article.text)
    body, comments = article.text[:cut], article.text[cut:]
    assert "they beheaded 100 guys" in comments
    for obj in events:
        for evidence in obj["evidence"]:
            quote = evidence["quote"]
            assert quote in body, f"quote outside the article body: {quote!r}"
            assert quote not in comments, f"quote found in the reader comments: {quote!r}"
