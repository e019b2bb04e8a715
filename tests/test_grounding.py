from extractor.grounding import Grounder, ground_events
from extractor.schema import Event

ARTICLE = (
    "He said: \u201cThe clashes continued until Tuesday midnight,\u201d\nmedia activist Yasser  Hussein told ARA News."
)


def test_exact_quote_gets_exact_offsets() -> None:
    span = Grounder(ARTICLE).locate("media activist Yasser  Hussein")
    assert span is not None
    assert ARTICLE[span[0] : span[1]] == "media activist Yasser  Hussein"


def test_straight_quotes_and_collapsed_whitespace_are_tolerated() -> None:
    quote = '"The clashes continued until Tuesday midnight," media activist Yasser Hussein told ARA News.'
    span = Grounder(ARTICLE).locate(quote)
    assert span is not None
    assert (
        ARTICLE[span[0] : span[1]]
        == "The clashes continued until Tuesday midnight,\u201d\nmedia activist Yasser  Hussein told ARA News."
    )


def test_case_difference_is_tolerated() -> None:
    span = Grounder(ARTICLE).locate("THE CLASHES CONTINUED")
    assert span is not None and ARTICLE[span[0] : span[1]] == "The clashes continued"


def test_invented_quote_is_flagged_not_trusted() -> None:
    events = [
        Event.model_validate(
            {
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "actor1": {"name": "ISIS"},
                "evidence": [{"quote": "until Tuesday midnight"}, {"quote": "ISIS beheaded 100 men"}],
                "summary": "x",
            }
        )
    ]
    grounded, warnings = ground_events(ARTICLE, events)
    found, invented = grounded[0].evidence
    assert (found.grounded, found.start, found.end) == (True, 32, 54)
    assert (invented.grounded, invented.start, invented.end) == (False, None, None)
    assert warnings == ["event 0: evidence quote not found in the article: 'ISIS beheaded 100 men'"]
