"""Shared fixtures: paths to the repo's seeds and cassettes, and a network guard."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CASSETTES = ROOT / "cassettes"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


class NetworkBlocked(AssertionError):
    """Raised when a test that must stay offline tries to open a connection."""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail any socket connection; yields the list of attempted addresses."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise NetworkBlocked(f"test tried to connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own response cache, so no test reads another's (or the user's) answers."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("EXTRACTOR_CACHE_DIR", str(folder))
    return folder
