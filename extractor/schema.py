"""The event record: what one armed-conflict event looks like once extracted.

Grounded in the ACLED codebook (types, actors, precision codes, conservative
fatalities) and UCDP GED (best/low/high deaths, per-side deaths, date ranges).

Two rules shape every field:

* Unknown is allowed and never invented. Dates, places and fatalities are
  optional; ``None`` means "the article does not say", never zero.
* Validation errors are written for the model to read. When a record breaks a
  rule, instructor sends the message back to the model for another attempt, so
  each message says what is wrong and what to do instead.

Fields the code fills in after the model answers (evidence offsets, grounding
flags) are hidden from the JSON schema the model sees (``SkipJsonSchema``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from contextvars import ContextVar
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, computed_field, model_validator
from pydantic.json_schema import SkipJsonSchema

from extractor.taxonomy import (
    EVENT_TYPE_OF,
    SUB_EVENT_TYPES,
    ActorCategory,
    DatePrecision,
    EventType,
    GeoPrecision,
    SubEventType,
)

# Validation context for answers parsed inside instructor. Passing instructor a `context` would also make it
# render every message, article text included, as a Jinja template: "{{" in an article would break the call.
VALIDATION_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("extractor_validation_context", default=None)

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class Actor(_Record):
    """One side of an event. ``name`` is canonicalized after extraction; ``mentions`` keep the article's words."""

    name: ShortText = Field(description="The actor's name, e.g. 'Islamic State' or 'Nusra Front'.")
    mentions: list[ShortText] = Field(
        default_factory=list,
        max_length=5,
        description="How the article names this actor, verbatim (e.g. 'ISIS', 'Daesh').",
    )
    category: ActorCategory | None = Field(default=None, description="ACLED actor category.")


class EventDate(_Record):
    """The earliest and latest possible date of the event, as the article allows."""

    start: dt.date | None = Field(default=None, description="Earliest possible date, YYYY-MM-DD, or null if unknown.")
    end: dt.date | None = Field(default=None, description="Latest possible date, YYYY-MM-DD, or null if unknown.")
    precision: DatePrecision = Field(default=DatePrecision.UNKNOWN, description="How precise the date is.")
    raw: str | None = Field(
        default=None, max_length=200, description="The date expression as written, e.g. 'Sunday', 'late Tuesday'."
    )

    @model_validator(mode="after")
    def _ordered(self) -> EventDate:
        if self.start and self.end and self.start > self.end:
            raise ValueError(
                f"date.start ({self.start}) is after date.end ({self.end}); start must be the earliest "
                "possible date and end the latest"
            )
        return self


class Location(_Record):
    """Where the event happened. One record per country when fighting crosses a border."""

    country: str | None = Field(default=None, max_length=80, description="Country, e.g. 'Syria'.")
    region: str | None = Field(
        default=None, max_length=120, description="First-level region (governorate/province), e.g. 'Rif Dimashq'."
    )
    place: str | None = Field(default=None, max_length=120, description="Town, village or named area.")
    precision: GeoPrecision | None = Field(default=None, description="How precise the location is.")
    raw: str | None = Field(default=None, max_length=200, description="The location as written in the article.")


class Fatalities(_Record):
    """Deaths (and injuries) in this one event. ``None`` means not reported, never zero.

    ``best`` is the most conservative credible figure; ``low`` and ``high``
    span the reports. "At least 17" gives low = best = 17; "dozens" counts as 12
    and "tens" as 10 (ACLED's rule).
    """

    best: Count | None = Field(default=None, description="Most conservative credible death toll.")
    low: Count | None = Field(default=None, description="Lowest reported death toll.")
    high: Count | None = Field(default=None, description="Highest reported death toll.")
    side_a: Count | None = Field(default=None, description="Deaths among actor1.")
    side_b: Count | None = Field(default=None, description="Deaths among actor2.")
    civilians: Count | None = Field(default=None, description="Civilian deaths.")
    unknown: Count | None = Field(default=None, description="Deaths whose side is not said.")
    injured: Count | None = Field(default=None, description="Injured, if reported.")

    @model_validator(mode="after")
    def _consistent(self) -> Fatalities:
        low, best, high = self.low, self.best, self.high
        if low is not None and best is not None and low > best:
            raise ValueError(f"fatalities.low ({low}) is greater than fatalities.best ({best}); need low <= best")
        if best is not None and high is not None and best > high:
            raise ValueError(f"fatalities.best ({best}) is greater than fatalities.high ({high}); need best <= high")
        if low is not None and high is not None and low > high:
            raise ValueError(f"fatalities.low ({low}) is greater than fatalities.high ({high}); need low <= high")
        parts = [p for p in (self.side_a, self.side_b, self.civilians, self.unknown) if p is not None]
        ceiling = high if high is not None else best
        if parts and ceiling is not None and sum(parts) > ceiling:
            raise ValueError(
                f"the per-side deaths add up to {sum(parts)}, more than the event total ({ceiling}); "
                "the total must include every side, so raise high/best or correct the split"
            )
        return self


class Evidence(_Record):
    """A verbatim quote from the article. The code, not the model, finds where it is."""

    quote: str = Field(min_length=1, max_length=300, description="A sentence copied word for word from the article.")
    start: SkipJsonSchema[int | None] = None
    end: SkipJsonSchema[int | None] = None
    grounded: SkipJsonSchema[bool | None] = None


class Event(_Record):
    """One armed-conflict event: one day (or range), one place, one pair of sides, one type.

    ``evidence`` comes first on purpose: a model that writes JSON in schema order
    quotes the article before it codes anything, so the coding rests on the quote.
    """

    evidence: list[Evidence] = Field(min_length=1, max_length=4)
    event_type: EventType
    sub_event_type: SubEventType
    actor1: Actor
    actor2: Actor | None = Field(default=None, description="The other side, if any.")
    associated_actors: list[ShortText] = Field(
        default_factory=list, max_length=5, description="Allies fighting alongside either side."
    )
    date: EventDate = Field(default_factory=EventDate)
    location: Location = Field(default_factory=Location)
    fatalities: Fatalities = Field(default_factory=Fatalities)
    attribution: str | None = Field(
        default=None, max_length=300, description="Who reports the figures, e.g. 'Syrian Observatory for Human Rights'."
    )
    summary: str = Field(min_length=1, max_length=300, description="One factual sentence.")

    @model_validator(mode="after")
    def _sub_type_in_type(self) -> Event:
        if EVENT_TYPE_OF[self.sub_event_type] is not self.event_type:
            allowed = ", ".join(repr(s.value) for s in SUB_EVENT_TYPES[self.event_type])
            raise ValueError(
                f"sub_event_type {self.sub_event_type.value!r} does not belong to event_type "
                f"{self.event_type.value!r}; for that type choose one of: {allowed} "
                f"(or set event_type to {EVENT_TYPE_OF[self.sub_event_type].value!r})"
            )
        return self

    @model_validator(mode="after")
    def _not_after_publication(self, info: ValidationInfo) -> Event:
        published = (info.context or VALIDATION_CONTEXT.get() or {}).get("published")
        if published is not None and self.date.start is not None and self.date.start > published:
            raise ValueError(
                f"date.start ({self.date.start}) is after the article's publication date ({published}); "
                "an article cannot report a later event: resolve the date against the publication date "
                "or leave it null"
            )
        return self


class EventList(_Record):
    """What the model returns for one article: every distinct event, or an empty list."""

    events: list[Event] = Field(default_factory=list, max_length=20)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The schema, built once: instructor asks for it on every call and building it costs milliseconds."""
        schema: dict[str, Any] = json.loads(_cached_schema(cls, *args, **kwargs))  # a fresh copy: callers may mutate it
        return schema


@functools.cache
def _cached_schema(model: type[BaseModel], *args: Any, **kwargs: Any) -> str:
    return json.dumps(BaseModel.model_json_schema.__func__(model, *args, **kwargs))  # type: ignore[attr-defined]


class Usage(BaseModel):
    """Tokens and cost summed over every LLM call made for one article, retries included."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = Field(default=0.0, description="None when the provider's price is unknown.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=cost,
        )


class ExtractionResult(BaseModel):
    """Everything one extraction produced, including a failure and its reason.

    A failed article still gets a result (``status="failed"``, ``error`` set) so
    that a batch records it rather than losing it.
    """

    article_id: str
    status: Literal["ok", "failed"] = "ok"
    events: list[Event] = Field(default_factory=list)
    error: str | None = None
    prompt_version: str
    prompt_hash: str
    model: str
    usage: Usage = Field(default_factory=Usage)
    attempts: int = 0
    cache_hits: int = Field(default=0, description="Attempts answered from the response cache (no tokens spent).")
    latency_s: float = 0.0
    warnings: list[str] = Field(default_factory=list)
    key: str | None = Field(
        default=None, description="Hash of article text, prompt, model and parameters; resume skips a key already done."
    )

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def grounding_rate(self) -> float | None:
        """Share of evidence quotes found verbatim in the article; None when there are no quotes."""
        quotes = [q for e in self.events for q in e.evidence]
        if not quotes:
            return None
        return sum(1 for q in quotes if q.grounded) / len(quotes)
