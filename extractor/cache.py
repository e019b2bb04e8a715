"""An on-disk cache of LLM responses, so an unchanged re-run makes no LLM call.

The key is a hash of everything that decides the answer: the model, the
endpoint (except the embedded model's, whose port changes every run), the
messages (which hold the article and the rendered prompt), the response
schema, temperature and max_tokens. A re-ask after a validation error is a
different request, so it is cached on its own. The cache is one SQLite file,
shared by ``extractor`` and ``evals`` (``$EXTRACTOR_CACHE_DIR``, else
``~/.cache/conflict-extractor``); delete it to forget everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any


def default_cache_dir() -> Path:
    env = os.environ.get("EXTRACTOR_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "conflict-extractor"


def request_key(model: str, endpoint: str | None, request: dict[str, Any]) -> str:
    """The cache key of one chat request."""
    decisive = {k: request.get(k) for k in ("messages", "response_format", "temperature", "max_tokens")}
    blob = json.dumps({"model": model, "endpoint": endpoint, **decisive}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Maps request keys to raw chat-completion JSON. Safe to share across threads."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_cache_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "responses.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)")

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, response: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, json.dumps(response)))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
