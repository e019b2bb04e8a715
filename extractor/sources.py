"""Where a batch's articles come from: text files, folders, glob patterns and JSONL files.

A JSONL line is an object with ``id`` and ``text`` and optionally ``title``,
``outlet``, ``url`` and ``published`` (YYYY-MM-DD). Anything that cannot be read
becomes a :class:`SourceError` naming the file (and line), so the batch records
it and goes on.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from extractor.articles import Article, ArticleError, load_article

_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class SourceError:
    """An input that yielded no article; ``article_id`` is the best name we have for it."""

    article_id: str
    message: str


def iter_articles(inputs: list[str]) -> Iterator[Article | SourceError]:
    """Each input in order: a .jsonl file line by line, a folder's *.txt files, a glob's matches, or one file."""
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files = sorted(path.glob("*.txt"))
            if not files:
                yield SourceError(path.name, f"{path}: no *.txt articles in this folder")
            yield from (_load(p) for p in files)
        elif not path.exists() and _GLOB_CHARS & set(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                yield SourceError(item, f"{item}: no file matches this pattern")
            for match in matches:
                yield from iter_articles([match])
        elif path.suffix == ".jsonl":
            yield from _read_jsonl(path)
        else:
            yield _load(path)


def _load(path: Path) -> Article | SourceError:
    try:
        return load_article(path)
    except ArticleError as exc:
        return SourceError(path.stem, str(exc))


def _read_jsonl(path: Path) -> Iterator[Article | SourceError]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        yield SourceError(path.stem, f"{path}: cannot read ({exc.strerror})")
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield SourceError(
                    f"{path.stem}:{number}", f"{where}: not a JSON object ({exc.msg}); fix or remove the line"
                )
                continue
            if not isinstance(data, dict):
                yield SourceError(f"{path.stem}:{number}", f"{where}: expected an object with id and text")
                continue
            article_id = str(data.get("id") or f"{path.stem}:{number}")
            try:
                yield Article.model_validate({**data, "id": article_id})
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"]) or "line"
                yield SourceError(article_id, f"{where}: {field}: {err['msg']}")
