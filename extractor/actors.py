"""Actor canonicalization: ISIS, IS, ISIL, Daesh and Islamic State are one actor.

The alias table lives in ``extractor/data/actor_aliases.toml`` so that analysts
can extend it without touching code. Names not in the table are kept as the
model wrote them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from extractor.schema import Actor, Event
from extractor.taxonomy import ActorCategory

_GENERIC_TAIL = {"militants", "militant", "fighters", "fighter", "forces", "group", "members"}
_DEFAULT_TABLE = resources.files("extractor") / "data" / "actor_aliases.toml"


def alias_key(name: str) -> str:
    """The form two names must share to be the same actor: lower case, no punctuation, no 'al', 'the' or tail words."""
    text = name.lower().replace("qaida", "qaeda").replace("'s", "").replace("\u2019s", "")
    tokens = [t for t in re.split(r"[^0-9a-z]+", text) if t and t != "al"]
    if tokens and tokens[0] == "the":
        tokens = tokens[1:]
    while len(tokens) > 1 and tokens[-1] in _GENERIC_TAIL:
        tokens = tokens[:-1]
    return " ".join(tokens)


@dataclass(frozen=True)
class CanonicalActor:
    name: str
    category: ActorCategory


class AliasTable:
    """Maps alias keys to canonical actors. Build one with :meth:`load`."""

    def __init__(self, entries: dict[str, CanonicalActor]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: str | Path | None = None) -> AliasTable:
        """Load a TOML alias table (the packaged one by default); refuse aliases claimed by two actors."""
        raw = Path(path).read_bytes() if path else _DEFAULT_TABLE.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
        entries: dict[str, CanonicalActor] = {}
        for block in data.get("actor", []):
            actor = CanonicalActor(block["name"], ActorCategory(block["category"]))
            for alias in [actor.name, *block.get("aliases", [])]:
                key = alias_key(alias)
                other = entries.get(key)
                if other is not None and other != actor:
                    raise ValueError(f"alias {alias!r} maps to both {other.name!r} and {actor.name!r}")
                entries[key] = actor
        return cls(entries)

    def lookup(self, name: str) -> CanonicalActor | None:
        return self._entries.get(alias_key(name))

    def canonical_name(self, name: str) -> str:
        found = self.lookup(name)
        return found.name if found else name

    def canonicalize_actor(self, actor: Actor) -> Actor:
        """Rename to the canonical name, keep the model's wording among the mentions, fill the category."""
        found = self.lookup(actor.name) or next(filter(None, map(self.lookup, actor.mentions)), None)
        if found is None:
            return actor
        mentions = list(actor.mentions)
        if actor.name != found.name and actor.name not in mentions:
            mentions.insert(0, actor.name)
        return actor.model_copy(update={"name": found.name, "mentions": mentions[:5], "category": found.category})

    def canonicalize_event(self, event: Event) -> Event:
        return event.model_copy(
            update={
                "actor1": self.canonicalize_actor(event.actor1),
                "actor2": self.canonicalize_actor(event.actor2) if event.actor2 else None,
                "associated_actors": [self.canonical_name(a) for a in event.associated_actors],
            }
        )
