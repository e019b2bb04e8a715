"""Replaying the recorded seed cassettes: offline, no network, the same results every time.

The expected figures below are what the embedded SmolLM2-135M model produced when
the cassettes were recorded (prompt v1). They pin the whole path after the HTTP
call: parsing, validation, canonicalization, date rules, grounding and accounting.
Re-recording changes them; update them in the same commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from extractor import ExtractionError, Extractor, load_article
from tests.conftest import CASSETTES, SEEDS

# article id -> (status, events, attempts, prompt tokens, completion tokens)
RECORDED_V1 = {
    "000_5f11097ff496ee50": ("failed", 0, 1, 879, 2048),
    "001_c23cbe6c139eb7bd": ("ok", 0, 1, 865, 3),
    "002_7cf19f37d543f2f3": ("failed", 0, 1, 1507, 2048),
    "003_20071cb5d29d02dd": ("ok", 1, 1, 1296, 163),
    "004_32894de17cdd8ad9": ("ok", 0, 1, 2225, 12),
}


@pytest.fixture(scope="module")
def replayer() -> Extractor:
    return Extractor(model="embedded", prompt="v1", cassettes="replay", cassette_dir=CASSETTES)


@pytest.mark.parametrize("article_id", sorted(RECORDED_V1))
def test_seed_replays_offline_with_recorded_outcome(
    article_id: str, replayer: Extractor, no_network: list[object]
) -> None:
    article = load_article(SEEDS / f"{article_id}.txt")
    try:
        result = replayer.extract(article)
    except ExtractionError as exc:
        result = exc.result
    status, events, attempts, prompt_tokens, completion_tokens = RECORDED_V1[article_id]
    got = (
        result.status,
        len(result.events),
        result.attempts,
        result.usage.prompt_tokens,
        result.usage.completion_tokens,
    )
    assert got == (status, events, attempts, prompt_tokens, completion_tokens)
    assert result.usage.cost_usd == 0.0
    assert result.model == "embedded/smollm2-135m" and result.prompt_version == "v1"
    assert no_network == [], "replay opened a network connection"


def test_replay_never_starts_the_embedded_server(replayer: Extractor) -> None:
    replayer.extract_many([load_article(SEEDS / "001_c23cbe6c139eb7bd.txt")])
    assert replayer._server is None


def test_a_changed_article_does_not_replay_a_stale_answer(replayer: Extractor, no_network: list[object]) -> None:
    article = load_article(SEEDS / "001_c23cbe6c139eb7bd.txt")
    edited = article.model_copy(update={"text": article.text.replace("17 militants", "71 militants")})
    with pytest.raises(ExtractionError, match=r"not in the cassette .* re-record with --cassettes rerecord") as info:
        replayer.extract(edited)
    assert info.value.result.status == "failed"
    assert no_network == []


def test_unplayed_recordings_are_an_error(tmp_path: Path) -> None:
    source = CASSETTES / "v1" / "embedded__smollm2-135m" / "001_c23cbe6c139eb7bd.yaml"
    target = tmp_path / "v1" / "embedded__smollm2-135m" / "001_c23cbe6c139eb7bd.yaml"
    target.parent.mkdir(parents=True)
    recording = yaml.safe_load(source.read_text())
    recording["interactions"] *= 2  # the same exchange recorded twice, played once
    target.write_text(yaml.safe_dump(recording))
    extractor = Extractor(model="embedded", prompt="v1", cassettes="replay", cassette_dir=tmp_path)
    with pytest.raises(ExtractionError, match=r"2 recorded interaction.* but only 1 replayed"):
        extractor.extract(load_article(SEEDS / "001_c23cbe6c139eb7bd.txt"))
