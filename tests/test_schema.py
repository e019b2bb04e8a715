import datetime as dt

import pytest
from pydantic import ValidationError

from extractor.schema import Event, EventList, Fatalities, Usage
from extractor.taxonomy import SUB_EVENT_TYPES, SubEventType


def event(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": {"name": "Nusra Front"},
        "actor2": {"name": "Islamic State"},
        "evidence": [{"quote": "Ten Nusra Front fighters and eight ISIS militants were killed Sunday"}],
        "summary": "Nusra Front and IS clashed.",
    }
    base.update(overrides)
    return base


def test_taxonomy_has_acled_six_types_and_25_sub_types() -> None:
    assert len(SUB_EVENT_TYPES) == 6
    assert sum(len(s) for s in SUB_EVENT_TYPES.values()) == 25 == len(SubEventType)


def test_unknown_is_allowed_everywhere_and_stays_none() -> None:
    e = Event.model_validate(event())
    assert e.fatalities.best is None and e.fatalities.low is None
    assert e.date.start is None and e.date.precision.value == "unknown"
    assert e.location.country is None


def test_fatalities_order_error_tells_the_model_what_to_fix() -> None:
    with pytest.raises(ValidationError) as info:
        Fatalities(low=20, best=17, high=25)
    assert "fatalities.low (20) is greater than fatalities.best (17); need low <= best" in str(info.value)


def test_per_side_deaths_cannot_exceed_the_total() -> None:
    with pytest.raises(ValidationError, match=r"per-side deaths add up to 18, more than the event total \(10\)"):
        Fatalities(best=10, side_a=10, side_b=8)
    assert Fatalities(best=18, low=18, high=18, side_a=10, side_b=8).side_b == 8


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Fatalities(best=-1)


def test_sub_type_must_belong_to_type_and_error_lists_choices() -> None:
    with pytest.raises(ValidationError) as info:
        Event.model_validate(event(event_type="Battles", sub_event_type="Air/drone strike"))
    text = str(info.value)
    assert "sub_event_type 'Air/drone strike' does not belong to event_type 'Battles'" in text
    assert "'Armed clash', 'Government regains territory', 'Non-state actor overtakes territory'" in text
    assert "or set event_type to 'Explosions/Remote violence'" in text


def test_date_after_publication_is_rejected_only_when_publication_is_known() -> None:
    data = event(date={"start": "2014-04-12", "end": "2014-04-12", "precision": "day"})
    with pytest.raises(ValidationError, match=r"after the article's publication date \(2014-04-10\)"):
        Event.model_validate(data, context={"published": dt.date(2014, 4, 10)})
    assert Event.model_validate(data).date.start == dt.date(2014, 4, 12)


def test_date_range_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="start must be the earliest"):
        Event.model_validate(event(date={"start": "2014-04-12", "end": "2014-04-10"}))


def test_every_event_needs_evidence() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        Event.model_validate(event(evidence=[]))


def test_model_facing_schema_hides_fields_the_code_fills() -> None:
    schema = EventList.model_json_schema()
    evidence = schema["$defs"]["Evidence"]["properties"]
    assert list(evidence) == ["quote"]
    assert schema["properties"]["events"]["maxItems"] == 20


def test_usage_adds_and_unknown_cost_stays_unknown() -> None:
    total = Usage(prompt_tokens=10, completion_tokens=5, cost_usd=0.01) + Usage(
        prompt_tokens=1, completion_tokens=1, cost_usd=None
    )
    assert (total.prompt_tokens, total.completion_tokens, total.total_tokens, total.cost_usd) == (11, 6, 17, None)
