"""Cassettes hold no secrets, record what really went over HTTP, and replay without a network."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from extractor.cassettes import SECRET_HEADERS, SECRET_PATTERN, CassetteMissing, CassetteMode, make_vcr, use_cassette
from tests.conftest import CASSETTES
from tests.fake_llm import completion, fake_llm

ALL_CASSETTES = sorted(CASSETTES.rglob("*.yaml"))


def test_there_are_recorded_cassettes() -> None:
    assert len(ALL_CASSETTES) >= 5


@pytest.mark.parametrize("path", ALL_CASSETTES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_no_cassette_holds_a_secret(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not SECRET_PATTERN.search(text), f"{path} holds something that looks like an API key"
    for interaction in yaml.safe_load(text)["interactions"]:
        for section in (interaction["request"], interaction["response"]):
            for name, values in section.get("headers", {}).items():
                if name.lower() in SECRET_HEADERS:
                    assert values in (["REDACTED"], "REDACTED"), f"{path}: header {name} is not scrubbed"
        assert "key=" not in interaction["request"]["uri"] or "key=REDACTED" in interaction["request"]["uri"]


@pytest.mark.parametrize("path", ALL_CASSETTES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_bodies_are_readable_json(path: Path) -> None:
    for interaction in yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]:
        assert json.loads(interaction["request"]["body"])["messages"]
        assert json.loads(interaction["response"]["body"]["string"])["choices"]


def test_recorder_scrubs_keys_from_headers_query_and_bodies(tmp_path: Path) -> None:
    secret = "sk-" + "live-abcdefghijklmnopqrstuvwxyz0123456789"  # built, so the repo holds no key-shaped literal
    with fake_llm([completion(f"echo {secret}")]) as server, make_vcr("once").use_cassette(str(tmp_path / "c.yaml")):
        httpx.post(
            f"{server.api_base}/chat/completions?key={secret}",
            json={"messages": [{"role": "user", "content": f"my key is {secret}"}]},
            headers={"Authorization": f"Bearer {secret}", "x-api-key": secret, "cookie": f"s={secret}"},
        )
    text = (tmp_path / "c.yaml").read_text()
    assert secret not in text
    assert text.count("REDACTED") >= 5


def test_replay_of_a_missing_cassette_says_how_to_record(tmp_path: Path, no_network: list[object]) -> None:
    with (
        pytest.raises(CassetteMissing, match=r"no cassette for article a1, prompt v1, model m .*--cassettes record"),
        use_cassette(CassetteMode.REPLAY, tmp_path, "a1", "v1", "m"),
    ):
        pass
    assert no_network == []
