"""Running one (prompt version, model) pair over a dataset and keeping everything as a run file.

A run file is the eval log: which prompt (version and content hash), which
model, which library versions, and per article the expected events, the
result as extracted and its scores. Two run files are enough to compare two
configurations later, without re-running anything (``evals compare``).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evals.dataset import Sample
from evals.scoring import ArticleScore, aggregate, score_article
from extractor.actors import AliasTable
from extractor.cache import ResponseCache
from extractor.cassettes import CassetteMode, model_slug
from extractor.llm import ModelConfig
from extractor.pipeline import ExtractionError, Extractor
from extractor.schema import Event, ExtractionResult

LIBRARIES = ("conflict-extractor", "pydantic", "instructor", "litellm", "openai", "llama_cpp_python", "vcrpy", "scipy")


class SampleRecord(BaseModel):
    article_id: str
    expected: list[Event]
    result: ExtractionResult
    score: dict[str, Any]


class EvalRun(BaseModel):
    """Everything one run produced, as written to its JSON file."""

    run_id: str
    created: str
    dataset: str
    prompt_version: str
    prompt_hash: str
    model: str
    cassettes: str
    versions: dict[str, str]
    headline: dict[str, float | None]
    scores: dict[str, Any]
    samples: list[SampleRecord] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.prompt_version} x {self.model}"

    def article_metric(self, article_id: str, metric: str) -> float | None:
        for sample in self.samples:
            if sample.article_id == article_id:
                return ArticleScore.model_validate(sample.score).metric(metric)
        return None

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.prompt_version}__{model_slug(self.model)}.json"
        path.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> EvalRun:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_eval(
    samples: list[Sample],
    *,
    dataset: str,
    prompt: str,
    model: str,
    cassettes: CassetteMode,
    cassette_dir: Path | None = None,
    aliases: AliasTable | None = None,
    api_base: str | None = None,
    cache: ResponseCache | None = None,
) -> EvalRun:
    """Extract every sample with one prompt and model, score each, and aggregate.

    ``cache`` serves live runs only: replayed or recorded runs go through cassettes.
    """
    aliases = aliases or AliasTable.load()
    config = ModelConfig.for_model(model)
    if api_base:
        config = replace(config, api_base=api_base)
    records: list[SampleRecord] = []
    scores: list[ArticleScore] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        extractor = Extractor(
            prompt=prompt, config=config, cassettes=cassettes, cassette_dir=cassette_dir, aliases=aliases, cache=cache
        )
    with extractor:
        for sample in samples:
            try:
                result = extractor.extract(sample.article)
            except ExtractionError as exc:
                result = exc.result
            score = score_article(sample.article.id, sample.expected, result, aliases)
            scores.append(score)
            records.append(SampleRecord(article_id=sample.article.id, expected=sample.expected, result=result,
                                        score=score.model_dump(mode="json")))  # fmt: skip
    total = aggregate(scores)
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return EvalRun(
        run_id=f"{created:%Y%m%dT%H%M%SZ}-{prompt}-{model_slug(extractor.config.model)}",
        created=created.isoformat(),
        dataset=dataset,
        prompt_version=extractor.prompt.version,
        prompt_hash=extractor.prompt.content_hash,
        model=extractor.config.model,
        cassettes=cassettes.value,
        versions=library_versions(),
        headline=total.headline(),
        scores=json.loads(total.model_dump_json()),
        samples=records,
    )
