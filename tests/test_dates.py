import datetime as dt

import pytest

from extractor.dates import is_relative, resolve, settle_date
from extractor.schema import EventDate
from extractor.taxonomy import DatePrecision

THURSDAY = dt.date(2014, 4, 10)


@pytest.mark.parametrize(
    ("raw", "start", "end", "precision"),
    [
        ("Thursday", "2014-04-10", "2014-04-10", "day"),
        ("on Wednesday", "2014-04-09", "2014-04-09", "day"),
        ("Sunday", "2014-04-06", "2014-04-06", "day"),
        ("late Tuesday", "2014-04-08", "2014-04-08", "day"),
        ("from Sunday until Tuesday midnight", "2014-04-06", "2014-04-08", "week"),
        ("yesterday", "2014-04-09", "2014-04-09", "day"),
        ("earlier this week", "2014-04-07", "2014-04-10", "week"),
        ("last week", "2014-03-31", "2014-04-06", "week"),
        ("over the past few days", "2014-04-03", "2014-04-10", "week"),
        ("earlier this month", "2014-04-01", "2014-04-10", "month"),
        ("earlier this year", "2014-01-01", "2014-04-10", "year"),
        ("last year", "2013-01-01", "2013-12-31", "year"),
        ("in December", "2013-12-01", "2013-12-31", "month"),
        ("April 9", "2014-04-09", "2014-04-09", "day"),
    ],
)
def test_resolve_against_publication_date(raw: str, start: str, end: str, precision: str) -> None:
    resolved = resolve(raw, THURSDAY)
    assert resolved is not None
    assert (resolved.start.isoformat(), resolved.end.isoformat(), resolved.precision.value) == (start, end, precision)


def test_absolute_and_unknown_expressions() -> None:
    assert not is_relative("August 2014")
    assert is_relative("Sunday")
    assert resolve("at some point", THURSDAY) is None


def test_relative_date_without_publication_date_is_not_invented() -> None:
    model_date = EventDate(
        start=dt.date(2016, 3, 27), end=dt.date(2016, 3, 27), precision=DatePrecision.DAY, raw="Sunday"
    )
    settled, warning = settle_date(model_date, None)
    assert (settled.start, settled.end, settled.raw) == (None, None, "Sunday")
    assert warning == "date 'Sunday' is relative and the publication date is unknown; model's dates cleared"


def test_code_resolution_replaces_a_wrong_model_date_and_says_so() -> None:
    model_date = EventDate(start=dt.date(2014, 4, 1), end=dt.date(2014, 4, 1), raw="Wednesday")
    settled, warning = settle_date(model_date, THURSDAY)
    assert (settled.start, settled.end, settled.precision) == (
        dt.date(2014, 4, 9),
        dt.date(2014, 4, 9),
        DatePrecision.DAY,
    )
    assert warning == "date 'Wednesday' resolved to 2014-04-09..2014-04-09, not the model's 2014-04-01..2014-04-01"


def test_absolute_model_date_is_kept() -> None:
    model_date = EventDate(start=dt.date(2014, 8, 2), end=dt.date(2014, 8, 6), raw="August 2014")
    assert settle_date(model_date, None) == (model_date, None)
