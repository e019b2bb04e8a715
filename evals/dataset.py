"""Eval datasets: articles with hand-written expected events.

A dataset is a folder of ``NAME.txt`` articles (with optional ``NAME.meta.json``)
and ``expected/NAME.json`` files holding ``{"article_id", "notes", "events"}``.
``seeds`` names the repo's own ``seeds/`` folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from extractor.articles import Article, load_article
from extractor.schema import Event

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


class DatasetError(ValueError):
    """A dataset that cannot be loaded; the message names the file and the problem."""


@dataclass(frozen=True)
class Sample:
    """One article and the events a careful reader coded from it."""

    article: Article
    expected: list[Event]


def dataset_dir(name_or_path: str) -> Path:
    return SEEDS_DIR if name_or_path == "seeds" else Path(name_or_path)


def load_dataset(name_or_path: str = "seeds") -> list[Sample]:
    """Load every article that has an expected file, in file-name order."""
    folder = dataset_dir(name_or_path)
    if not folder.is_dir():
        raise DatasetError(f"dataset {name_or_path!r}: {folder} is not a folder of articles")
    samples = []
    for path in sorted(folder.glob("*.txt")):
        expected_path = folder / "expected" / f"{path.stem}.json"
        if not expected_path.exists():
            raise DatasetError(f"{path}: no expected events at {expected_path}; write them (see seeds/GUIDELINES.md)")
        article = load_article(path)
        samples.append(Sample(article, _load_expected(expected_path, article)))
    if not samples:
        raise DatasetError(f"dataset {name_or_path!r}: no *.txt articles in {folder}")
    return samples


def _load_expected(path: Path, article: Article) -> list[Event]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Event.model_validate(e, context={"published": article.published}) for e in data["events"]]
    except (json.JSONDecodeError, KeyError, TypeError, ValidationError) as exc:
        raise DatasetError(f"{path}: not a valid expected-events file: {exc}") from exc
