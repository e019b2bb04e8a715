"""Versioned prompts: one folder per version under ``prompts/``, plain files people can diff.

A version folder holds ``manifest.toml`` (version, parent, summary, changes),
``system.j2`` and ``user.j2`` (Jinja2 templates). Its content hash covers every
file in the folder, so a result records exactly which text produced it, and a
test pins the hashes of published versions so that editing one in place is
caught: change a prompt by adding a version.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import jinja2

from extractor.articles import Article
from extractor.taxonomy import SUB_EVENT_TYPES

Message = dict[str, str]


class PromptError(ValueError):
    """A prompt version that is missing or broken; the message says where and which versions exist."""


def default_prompts_dir() -> Path:
    """``$EXTRACTOR_PROMPTS_DIR`` if set, else the ``prompts/`` folder beside the package."""
    env = os.environ.get("EXTRACTOR_PROMPTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "prompts"


def available_versions(prompts_dir: Path | None = None) -> list[str]:
    root = prompts_dir or default_prompts_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "manifest.toml").is_file())


@dataclass(frozen=True)
class PromptVersion:
    """A loaded prompt version: its manifest, templates and content hash."""

    version: str
    parent: str
    summary: str
    content_hash: str
    system_template: str
    user_template: str

    @classmethod
    def load(cls, version: str, prompts_dir: Path | None = None) -> PromptVersion:
        root = prompts_dir or default_prompts_dir()
        folder = root / version
        if not (folder / "manifest.toml").is_file():
            known = ", ".join(available_versions(root)) or "none"
            raise PromptError(f"prompt version {version!r} not found in {root} (available: {known})")
        try:
            manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
            system = (folder / "system.j2").read_text(encoding="utf-8")
            user = (folder / "user.j2").read_text(encoding="utf-8")
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PromptError(f"prompt version {version!r} in {folder} is broken: {exc}") from exc
        if manifest.get("version") != version:
            raise PromptError(
                f"{folder}/manifest.toml says version {manifest.get('version')!r}, folder says {version!r}"
            )
        return cls(
            version=version,
            parent=str(manifest.get("parent", "")),
            summary=str(manifest.get("summary", "")),
            content_hash=folder_hash(folder),
            system_template=system,
            user_template=user,
        )

    def render(self, article: Article) -> list[Message]:
        """The chat messages for one article."""
        context = {
            "article": article,
            "taxonomy": {t.value: [s.value for s in subs] for t, subs in SUB_EVENT_TYPES.items()},
        }
        return [
            {"role": "system", "content": _render(self.system_template, context, self.version, "system.j2")},
            {"role": "user", "content": _render(self.user_template, context, self.version, "user.j2")},
        ]


_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@functools.lru_cache(maxsize=64)
def _compile(template: str) -> jinja2.Template:
    return _ENV.from_string(template)


def _render(template: str, context: dict[str, object], version: str, name: str) -> str:
    try:
        return _compile(template).render(**context).strip()
    except jinja2.TemplateError as exc:
        raise PromptError(f"prompt {version}/{name} failed to render: {exc}") from exc


def folder_hash(folder: Path) -> str:
    """sha256 over every file's relative name and bytes, in name order; the first 16 hex digits."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
