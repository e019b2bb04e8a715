"""Articles: the input side. Loading text files (with optional metadata) and checking them.

A text file ``NAME.txt`` may have a sidecar ``NAME.meta.json`` holding
``{"id", "title", "outlet", "url", "published"}``; the seeds use this so that
relative dates can be resolved against a publication date when one is known.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator


class ArticleError(ValueError):
    """An article that cannot be processed; the message names the article and the fix."""


class Article(BaseModel):
    """One news article. ``published`` stays ``None`` when nothing fixes it."""

    id: str = Field(min_length=1)
    text: str
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: dt.date | None = None
    published_note: str | None = Field(default=None, description="How the publication date was determined.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the article text is empty or whitespace only; give an article with text")
        return text

    @property
    def content_hash(self) -> str:
        """A short hash of the text, so caches and cassettes notice when an article changes."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def article_from_text(text: str, article_id: str | None = None, **metadata: object) -> Article:
    """Build an article from a string, naming it by its content hash when no id is given."""
    if not text.strip():
        raise ArticleError(f"article {article_id or '<text>'}: the text is empty or whitespace only")
    article_id = article_id or "text-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    try:
        return Article(id=article_id, text=text, **metadata)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ArticleError(f"article {article_id}: {_first_error(exc)}") from exc


def load_article(path: str | Path) -> Article:
    """Read one article file (UTF-8 text) and its ``.meta.json`` sidecar if there is one."""
    path = Path(path)
    if not path.exists():
        raise ArticleError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise ArticleError(f"{path}: is a directory; pass the article files inside it (e.g. {path}/*.txt)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"{path}: not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}); "
            "convert it first, e.g. `iconv -f latin1 -t utf-8`"
        ) from exc
    if not text.strip():
        raise ArticleError(f"{path}: the file is empty or whitespace only; there is nothing to extract")
    metadata = _read_sidecar(path)
    metadata.setdefault("id", path.stem)
    try:
        return Article.model_validate({**metadata, "text": text})
    except ValidationError as exc:
        raise ArticleError(f"{path}: {_first_error(exc)}") from exc


def _read_sidecar(path: Path) -> dict[str, object]:
    sidecar = path.with_suffix(".meta.json")
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArticleError(f"{sidecar}: not valid UTF-8 JSON ({exc}); fix or delete the metadata file") from exc
    if not isinstance(data, dict):
        raise ArticleError(f"{sidecar}: expected a JSON object with id, title, outlet, url, published")
    return data


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "article"
    return f"{where}: {err['msg']}"
