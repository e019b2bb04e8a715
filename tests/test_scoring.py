import json
from typing import Any

import pytest

from evals.scoring import (
    FIELDS,
    HEADLINE_KEYS,
    MATCH_THRESHOLD,
    ArticleScore,
    aggregate,
    match_events,
    score_article,
    similarity,
)
from extractor.actors import AliasTable
from extractor.schema import Event, ExtractionResult, Usage

ALIASES = AliasTable.load()

CLASH: dict[str, Any] = {
    "event_type": "Battles",
    "sub_event_type": "Armed clash",
    "actor1": {"name": "Islamic State"},
    "actor2": {"name": "Nusra Front"},
    "date": {"start": "2015-06-01", "end": "2015-06-01"},
    "location": {"country": "Syria", "region": "Idlib", "place": "Jisr al-Shughur"},
    "fatalities": {"best": 10, "low": 10, "high": 12},
    "evidence": [{"quote": "Fighting raged near Jisr al-Shughur.", "grounded": True}],
    "summary": "IS and Nusra Front clashed near Jisr al-Shughur.",
}
STRIKE: dict[str, Any] = {
    "event_type": "Explosions/Remote violence",
    "sub_event_type": "Air/drone strike",
    "actor1": {"name": "Military Forces of Syria"},
    "date": {"start": "2015-06-03"},
    "location": {"country": "Syria", "region": "Aleppo", "place": "Aleppo"},
    "fatalities": {"best": 5},
    "evidence": [{"quote": "Jets struck Aleppo.", "grounded": True}],
    "summary": "Syrian jets struck Aleppo.",
}
PROTEST: dict[str, Any] = {
    "event_type": "Protests",
    "sub_event_type": "Peaceful protest",
    "actor1": {"name": "Protesters (Lebanon)"},
    "date": {"start": "2016-01-20"},
    "location": {"country": "Lebanon", "region": "Beirut", "place": "Beirut"},
    "evidence": [{"quote": "Crowds marched in Beirut.", "grounded": False}],
    "summary": "People protested in Beirut.",
}


def ev(base: dict[str, Any], **changes: Any) -> Event:
    return Event.model_validate({**base, **changes})


def result(*events: Event, **fields: Any) -> ExtractionResult:
    base: dict[str, Any] = {
        "article_id": "a1",
        "prompt_version": "v1",
        "prompt_hash": "x",
        "model": "m",
        "events": list(events),
        "usage": Usage(prompt_tokens=100, completion_tokens=20, cost_usd=0.01),
        "attempts": 1,
        "latency_s": 2.0,
    }
    return ExtractionResult(**{**base, **fields})


def score(expected: list[Event], res: ExtractionResult, article_id: str = "a1") -> ArticleScore:
    return score_article(article_id, expected, res, ALIASES)


def test_a_perfect_copy_scores_one_everywhere() -> None:
    expected = [ev(CLASH), ev(STRIKE)]
    s = score(expected, result(ev(CLASH), ev(STRIKE)))
    assert (s.tp, s.fp, s.fn) == (2, 0, 0)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert s.matches == [(0, 0, 1.0), (1, 1, 1.0)]
    assert s.fields == dict.fromkeys(FIELDS, (2, 2))
    assert s.abs_errors == [0, 0]
    assert s.metric("fat_mae") == 0.0
    assert (s.grounded_quotes, s.total_quotes) == (2, 2)
    assert s.schema_valid is True
    assert all(s.metric(key) == 1.0 for key in ("type_acc", "actor_pair_acc", "date_1d_acc", "fat_in_range_acc"))


def test_a_dropped_event_costs_recall_only() -> None:
    s = score([ev(CLASH), ev(STRIKE)], result(ev(STRIKE)))
    assert (s.tp, s.fp, s.fn) == (1, 0, 1)
    assert (s.precision, s.recall) == (1.0, 0.5)
    assert s.f1 == pytest.approx(2 / 3)
    assert s.matches == [(0, 1, 1.0)]
    assert s.fields["event_type"] == (1, 1)


def test_an_invented_event_costs_precision_only() -> None:
    s = score([ev(CLASH), ev(STRIKE)], result(ev(CLASH), ev(PROTEST), ev(STRIKE)))
    assert (s.tp, s.fp, s.fn) == (2, 1, 0)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == 1.0
    assert s.f1 == pytest.approx(0.8)
    assert s.matches == [(0, 0, 1.0), (2, 1, 1.0)]
    assert (s.grounded_quotes, s.total_quotes) == (2, 3)


def test_swapped_and_aliased_actors_are_the_same_pair() -> None:
    pred = ev(CLASH, actor1={"name": "Jabhat al-Nusra"}, actor2={"name": "ISIS"})
    assert similarity(pred, ev(CLASH), ALIASES) == 1.0
    s = score([ev(CLASH)], result(pred))
    assert s.tp == 1
    assert s.fields["actor_pair"] == (1, 1)


def test_a_different_actor_pair_is_wrong_and_lowers_similarity() -> None:
    pred = ev(CLASH, actor2={"name": "Free Syrian Army"})
    assert similarity(pred, ev(CLASH), ALIASES) == pytest.approx((3 + 1 / 3) / 4)
    assert score([ev(CLASH)], result(pred)).fields["actor_pair"] == (0, 1)


def test_fatalities_off_by_one_inside_the_expected_range() -> None:
    s = score([ev(CLASH)], result(ev(CLASH, fatalities={"best": 11})))
    assert s.fields["fatalities_exact"] == (0, 1)
    assert s.fields["fatalities_in_range"] == (1, 1)
    assert s.abs_errors == [1]
    assert s.metric("fat_mae") == 1.0


def test_fatalities_off_by_one_outside_a_point_estimate() -> None:
    s = score([ev(STRIKE)], result(ev(STRIKE, fatalities={"best": 6})))
    assert s.fields["fatalities_exact"] == (0, 1)
    assert s.fields["fatalities_in_range"] == (0, 1)
    assert s.abs_errors == [1]


def test_unknown_fatalities_only_match_unknown() -> None:
    s = score([ev(PROTEST), ev(CLASH)], result(ev(PROTEST), ev(CLASH, fatalities={})))
    assert s.fields["fatalities_exact"] == (1, 2)
    assert s.fields["fatalities_in_range"] == (1, 2)
    assert s.abs_errors == []
    assert s.metric("fat_mae") is None


def test_a_date_one_day_off_is_within_a_day_but_not_exact() -> None:
    pred = ev(CLASH, date={"start": "2015-06-02", "end": "2015-06-02"})
    assert similarity(pred, ev(CLASH), ALIASES) == 0.875
    s = score([ev(CLASH)], result(pred))
    assert s.fields["date_exact"] == (0, 1)
    assert s.fields["date_within_1d"] == (1, 1)


def test_date_similarity_uses_ranges_and_tolerates_unknown() -> None:
    exp = ev(CLASH)
    overlapping = ev(CLASH, date={"start": "2015-05-30", "end": "2015-06-05"})
    open_ended = ev(CLASH, date={"end": "2015-06-01"})
    unknown = ev(CLASH, date={})
    far = ev(CLASH, date={"start": "2015-06-03"})
    assert similarity(overlapping, exp, ALIASES) == 1.0
    assert similarity(open_ended, exp, ALIASES) == 1.0
    assert similarity(unknown, exp, ALIASES) == 0.875
    assert similarity(far, exp, ALIASES) == 0.75
    s = score([exp], result(open_ended))
    assert s.fields["date_exact"] == (0, 1)
    assert s.fields["date_within_1d"] == (0, 1)


def test_place_similarity_falls_back_to_region_then_country() -> None:
    exp = ev(CLASH)
    same_place = ev(CLASH, location={"country": "syria", "region": "idlib", "place": " JISR AL-SHUGHUR "})
    same_region = ev(CLASH, location={"country": "Syria", "region": "Idlib", "place": "Ariha"})
    same_country = ev(CLASH, location={"country": "Syria", "region": "Hama"})
    nowhere = ev(CLASH, location={"country": "Iraq"})
    assert similarity(same_place, exp, ALIASES) == 1.0
    assert similarity(same_region, exp, ALIASES) == 0.875
    assert similarity(same_country, exp, ALIASES) == 0.8125
    assert similarity(nowhere, exp, ALIASES) == 0.75
    assert similarity(nowhere, ev(CLASH, location={}), ALIASES) == 0.875
    s = score([exp], result(same_region))
    assert (s.fields["country"], s.fields["region"], s.fields["place"]) == ((1, 1), (1, 1), (0, 1))


def test_one_missing_location_field_is_wrong_and_two_are_right() -> None:
    s = score(
        [ev(CLASH, location={"country": "Syria"})], result(ev(CLASH, location={"country": "Syria", "region": "Idlib"}))
    )
    assert (s.fields["country"], s.fields["region"], s.fields["place"]) == ((1, 1), (0, 1), (1, 1))


def test_predicted_order_does_not_change_the_pairs() -> None:
    expected = [ev(CLASH), ev(STRIKE)]
    forward = score(expected, result(ev(CLASH), ev(STRIKE)))
    backward = score(expected, result(ev(STRIKE), ev(CLASH)))
    assert backward.matches == [(1, 0, 1.0), (0, 1, 1.0)]
    assert backward.model_dump(exclude={"matches"}) == forward.model_dump(exclude={"matches"})


def test_an_empty_answer_to_an_empty_article_is_perfect() -> None:
    s = score([], result())
    assert (s.tp, s.fp, s.fn) == (0, 0, 0)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert s.fields == dict.fromkeys(FIELDS, (0, 0))
    assert s.metric("type_acc") is None
    assert s.metric("grounding_rate") is None


def test_an_empty_answer_to_a_real_article_scores_zero() -> None:
    s = score([ev(CLASH)], result())
    assert (s.tp, s.fp, s.fn) == (0, 0, 1)
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)


def test_events_invented_for_an_empty_article_score_zero() -> None:
    s = score([], result(ev(CLASH)))
    assert (s.tp, s.fp, s.fn) == (0, 1, 0)
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)


def test_a_failed_result_is_an_empty_answer_and_not_schema_valid() -> None:
    failed = result(ev(CLASH), status="failed", error="schema validation failed 3 times", attempts=3)
    s = score([ev(CLASH), ev(STRIKE)], failed)
    assert s.schema_valid is False
    assert (s.tp, s.fp, s.fn) == (0, 0, 2)
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)
    assert (s.grounded_quotes, s.total_quotes) == (0, 0)
    assert s.attempts == 3
    assert s.metric("schema_valid_rate") == 0.0


def test_a_pair_below_the_threshold_never_matches() -> None:
    assert similarity(ev(PROTEST), ev(CLASH), ALIASES) == 0.0
    s = score([ev(CLASH)], result(ev(PROTEST)))
    assert (s.tp, s.fp, s.fn) == (0, 1, 1)
    assert s.matches == []
    assert s.fields == dict.fromkeys(FIELDS, (0, 0))


def test_a_pair_exactly_at_the_threshold_matches() -> None:
    pred = ev(CLASH, actor1={"name": "Hezbollah"}, actor2=None, location={"country": "Lebanon"})
    assert similarity(pred, ev(CLASH), ALIASES) == MATCH_THRESHOLD
    assert match_events([pred], [ev(CLASH)], ALIASES) == [(0, 0, 0.5)]


def test_sub_threshold_pairs_do_not_steal_a_valid_assignment() -> None:
    e1 = ev(CLASH)
    e2 = ev(CLASH, date={"start": "2015-06-02"}, location={"country": "Iraq", "region": "Anbar", "place": "Ramadi"})
    a = ev(CLASH)
    b = ev(
        CLASH,
        sub_event_type="Government regains territory",
        actor1={"name": "Hezbollah"},
        actor2=None,
        location={"country": "Turkey", "region": "Idlib"},
    )
    sims = [[similarity(p, e, ALIASES) for e in (e1, e2)] for p in (a, b)]
    assert sims == [[1.0, 0.625], [0.5, 0.25]]
    assert match_events([a, b], [e1, e2], ALIASES) == [(1, 0, 0.5), (0, 1, 0.625)]


def test_the_article_score_is_json_serializable() -> None:
    s = score([ev(CLASH)], result(ev(CLASH)))
    data = json.loads(json.dumps(s.model_dump(mode="json")))
    assert data["fields"]["event_type"] == [1, 1]
    assert data["matches"] == [[0, 0, 1.0]]
    assert ArticleScore.model_validate(data) == s


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown metric 'f2'"):
        score([], result()).metric("f2")


def two_article_run() -> list[ArticleScore]:
    invented = ev(
        CLASH, location={"country": "Iraq"}, date={"start": "2014-01-01"}, actor1={"name": "Hezbollah"}, actor2=None
    )
    first = score([ev(CLASH), ev(STRIKE), ev(PROTEST)], result(ev(CLASH), ev(STRIKE), ev(PROTEST), invented), "a1")
    second = score(
        [ev(CLASH), ev(STRIKE)],
        result(
            ev(CLASH, fatalities={"best": 11}, evidence=[{"quote": "q", "grounded": False}]),
            usage=Usage(prompt_tokens=200, completion_tokens=40, cost_usd=0.02),
            attempts=2,
            latency_s=4.0,
        ),
        "a2",
    )
    return [first, second]


def test_micro_and_macro_aggregation_over_two_articles() -> None:
    first, second = two_article_run()
    assert (first.tp, first.fp, first.fn, first.precision, first.recall) == (3, 1, 0, 0.75, 1.0)
    assert (second.tp, second.fp, second.fn, second.precision, second.recall) == (1, 0, 1, 1.0, 0.5)
    run = aggregate([first, second])
    assert (run.n_articles, run.tp, run.fp, run.fn) == (2, 4, 1, 1)
    assert run.precision == pytest.approx(0.8)
    assert run.recall == pytest.approx(0.8)
    assert run.f1 == pytest.approx(0.8)
    assert run.macro_precision == pytest.approx(0.875)
    assert run.macro_recall == pytest.approx(0.75)
    assert run.macro_f1 == pytest.approx((6 / 7 + 2 / 3) / 2)
    assert run.field_accuracy["fatalities_exact"] == pytest.approx(0.75)
    assert run.macro_field_accuracy["fatalities_exact"] == pytest.approx(0.5)
    assert run.field_accuracy["fatalities_in_range"] == pytest.approx(1.0)
    assert run.field_accuracy["event_type"] == 1.0
    assert run.fat_mae == pytest.approx(1 / 3)
    assert run.grounding_rate == pytest.approx(3 / 5)
    assert run.schema_valid_rate == 1.0
    assert run.mean_attempts == 1.5
    assert (run.total_prompt_tokens, run.total_completion_tokens, run.total_tokens) == (300, 60, 360)
    assert run.tokens_per_article == 180.0
    assert run.cost_usd == pytest.approx(0.03)
    assert run.latency_s == 3.0


def test_macro_field_accuracy_skips_articles_without_pairs() -> None:
    run = aggregate([score([ev(CLASH)], result(ev(CLASH))), score([], result())])
    assert run.field_accuracy["event_type"] == 1.0
    assert run.macro_field_accuracy["event_type"] == 1.0
    assert (run.macro_precision, run.macro_recall, run.macro_f1) == (1.0, 1.0, 1.0)
    assert run.fat_mae == 0.0


def test_unknown_cost_and_failures_carry_into_the_run() -> None:
    priced = score([ev(CLASH)], result(ev(CLASH)))
    unpriced = score([ev(CLASH)], result(status="failed", usage=Usage(prompt_tokens=5, cost_usd=None)))
    run = aggregate([priced, unpriced])
    assert run.cost_usd is None
    assert run.schema_valid_rate == 0.5
    assert run.grounding_rate == 1.0


def test_an_empty_run_is_refused() -> None:
    with pytest.raises(ValueError, match="no article scores"):
        aggregate([])


def test_headline_has_the_report_keys_and_micro_values() -> None:
    run = aggregate(two_article_run())
    headline = run.headline()
    assert list(headline) == [
        "f1", "precision", "recall", "type_acc", "sub_type_acc", "actor_pair_acc", "place_acc",
        "date_exact_acc", "date_1d_acc", "fat_exact_acc", "fat_in_range_acc", "fat_mae", "grounding_rate",
        "schema_valid_rate", "attempts", "tokens_per_article", "cost_usd", "latency_s",
    ]  # fmt: skip
    assert tuple(headline) == HEADLINE_KEYS
    assert headline["f1"] == pytest.approx(0.8)
    assert headline["fat_exact_acc"] == pytest.approx(0.75)
    assert headline["attempts"] == 1.5
    assert headline["tokens_per_article"] == 180.0
    assert json.loads(json.dumps(headline)) == headline


def test_every_headline_key_is_also_a_per_article_metric() -> None:
    first, second = two_article_run()
    values = {key: second.metric(key) for key in HEADLINE_KEYS}
    assert values["recall"] == 0.5
    assert values["fat_exact_acc"] == 0.0
    assert values["grounding_rate"] == 0.0
    assert values["tokens_per_article"] == 240.0
    assert values["attempts"] == 2.0
    assert values["cost_usd"] == 0.02
    assert values["schema_valid_rate"] == 1.0
    assert first.metric("grounding_rate") == 0.75
