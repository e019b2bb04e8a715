"""Cassettes: recorded HTTP exchanges with the LLM, replayed so tests and evals run offline.

One cassette per (article, prompt version, model), at
``cassettes/<prompt>/<model>/<article>.yaml``. Requests match on method, path
and JSON body: every chat call is a POST to the same path, so without the body
a stale answer would replay silently. Secrets are scrubbed before anything is
written, and compressed bodies are decoded so a reviewer can read them.

Modes:

* ``replay``: only recordings; a missing cassette or an unrecorded request is an
  error that says how to record it, never a live call.
* ``record``: replay what exists, record what is missing.
* ``rerecord``: delete and record again.
* ``off``: no cassettes; live calls.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import vcr
from vcr.errors import CannotOverwriteExistingCassetteException

SECRET_HEADERS = (
    "authorization",
    "x-api-key",
    "api-key",
    "anthropic-api-key",
    "x-goog-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
)
SECRET_QUERY_PARAMS = ("key", "api_key", "api-key")
REDACTED = "REDACTED"
# Shapes of keys that must never be in a cassette, whatever header or body they hide in.
SECRET_PATTERN = re.compile(
    r"(sk-[A-Za-z0-9_-]{20,}|sk-ant-[A-Za-z0-9_-]{10,}|AIza[0-9A-Za-z_-]{30,}|[Bb]earer [A-Za-z0-9._-]{20,})"
)


class CassetteMode(StrEnum):
    REPLAY = "replay"
    RECORD = "record"
    RERECORD = "rerecord"
    OFF = "off"


class CassetteMissing(LookupError):
    """Replay was asked for a recording that does not exist."""


class CassetteUnused(RuntimeError):
    """Replay left recorded interactions unplayed: the request flow changed since recording."""


def model_slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", model)


def cassette_path(root: Path, article_id: str, prompt_version: str, model: str) -> Path:
    return root / prompt_version / model_slug(model) / f"{article_id}.yaml"


def record_hint(article_id: str, prompt_version: str, model: str, mode: str = "record") -> str:
    return (
        f"record it with: extractor extract <file of {article_id}> --prompt {prompt_version} "
        f"--model {model} --cassettes {mode}"
    )


def _json_body_matcher(r1: Any, r2: Any) -> None:
    """Bodies match when they are the same JSON value (key order and spacing aside)."""
    b1, b2 = _parse(r1.body), _parse(r2.body)
    if b1 != b2:
        raise AssertionError("request bodies differ")


def _parse(body: Any) -> Any:
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return body


def _scrub_text(text: str) -> str:
    return SECRET_PATTERN.sub(REDACTED, text)


def _scrub_request(request: Any) -> Any:
    if request.body:
        raw = request.body.decode("utf-8", errors="replace") if isinstance(request.body, bytes) else request.body
        request.body = _scrub_text(raw).encode("utf-8")
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    body = response.get("body", {})
    if isinstance(body.get("string"), bytes):
        body["string"] = _scrub_text(body["string"].decode("utf-8", errors="replace")).encode("utf-8")
    return response


def make_vcr(record_mode: str) -> vcr.VCR:
    recorder = vcr.VCR(
        record_mode=record_mode,
        match_on=("method", "path", "json_body"),
        filter_headers=[(h, REDACTED) for h in SECRET_HEADERS],
        filter_query_parameters=[(q, REDACTED) for q in SECRET_QUERY_PARAMS],
        decode_compressed_response=True,
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
    )
    recorder.register_matcher("json_body", _json_body_matcher)
    return recorder


def needs_network(mode: CassetteMode, path: Path) -> bool:
    """Whether a run in this mode will make live calls for this cassette."""
    return (
        mode is CassetteMode.OFF or mode is CassetteMode.RERECORD or (mode is CassetteMode.RECORD and not path.exists())
    )


@contextlib.contextmanager
def use_cassette(mode: CassetteMode, root: Path, article_id: str, prompt_version: str, model: str) -> Iterator[None]:
    """Record or replay the LLM calls made inside the block, as ``mode`` says.

    Not safe for concurrent use: vcrpy patches HTTP clients process-wide.
    """
    if mode is CassetteMode.OFF:
        yield
        return
    path = cassette_path(root, article_id, prompt_version, model)
    if mode is CassetteMode.REPLAY and not path.exists():
        raise CassetteMissing(
            f"no cassette for article {article_id}, prompt {prompt_version}, model {model} at {path}; "
            + record_hint(article_id, prompt_version, model)
        )
    if mode is CassetteMode.RERECORD:
        path.unlink(missing_ok=True)
    record_mode = {CassetteMode.REPLAY: "none", CassetteMode.RECORD: "once", CassetteMode.RERECORD: "once"}[mode]
    path.parent.mkdir(parents=True, exist_ok=True)
    with make_vcr(record_mode).use_cassette(str(path)) as cassette:
        yield
    if mode is CassetteMode.REPLAY and not cassette.all_played:
        raise CassetteUnused(
            f"{path}: {len(cassette.data)} recorded interaction(s) but only {cassette.play_count} replayed; "
            "the calls made no longer follow the recording; "
            + record_hint(article_id, prompt_version, model, "rerecord")
        )


def is_cassette_miss(exc: BaseException | None) -> bool:
    """True when an error (or anything it wraps) is a request the cassette does not hold."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, CannotOverwriteExistingCassetteException):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
