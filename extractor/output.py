"""Writing results: one JSON result per article (JSONL), or one ACLED-like CSV row per event.

Each result is written and flushed as soon as it exists, so an interrupted run
keeps everything finished before the interruption.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

from extractor.schema import Event, ExtractionResult

OutputFormat = Literal["jsonl", "csv"]

CSV_COLUMNS = [
    "article_id", "event_id", "status", "error",
    "event_date", "event_date_end", "time_precision", "date_raw",
    "event_type", "sub_event_type",
    "actor1", "inter1", "actor2", "inter2", "assoc_actors",
    "country", "admin1", "location", "geo_precision", "location_raw",
    "fatalities", "fatalities_low", "fatalities_high", "fatalities_side_a", "fatalities_side_b",
    "fatalities_civilians", "injured",
    "source", "notes", "evidence", "evidence_grounded",
    "prompt_version", "model",
]  # fmt: skip


def event_row(result: ExtractionResult, n: int, event: Event) -> dict[str, object]:
    """One CSV row in ACLED's column vocabulary (plus our evidence and provenance)."""
    f, d, loc = event.fatalities, event.date, event.location
    return {
        "article_id": result.article_id,
        "event_id": f"{result.article_id}-{n + 1}",
        "status": result.status,
        "error": "",
        "event_date": d.start or "",
        "event_date_end": d.end or "",
        "time_precision": d.precision.value,
        "date_raw": d.raw or "",
        "event_type": event.event_type.value,
        "sub_event_type": event.sub_event_type.value,
        "actor1": event.actor1.name,
        "inter1": event.actor1.category.value if event.actor1.category else "",
        "actor2": event.actor2.name if event.actor2 else "",
        "inter2": event.actor2.category.value if event.actor2 and event.actor2.category else "",
        "assoc_actors": "; ".join(event.associated_actors),
        "country": loc.country or "",
        "admin1": loc.region or "",
        "location": loc.place or "",
        "geo_precision": loc.precision.value if loc.precision else "",
        "location_raw": loc.raw or "",
        "fatalities": _blank(f.best),
        "fatalities_low": _blank(f.low),
        "fatalities_high": _blank(f.high),
        "fatalities_side_a": _blank(f.side_a),
        "fatalities_side_b": _blank(f.side_b),
        "fatalities_civilians": _blank(f.civilians),
        "injured": _blank(f.injured),
        "source": event.attribution or "",
        "notes": event.summary,
        "evidence": " | ".join(q.quote for q in event.evidence),
        "evidence_grounded": all(q.grounded for q in event.evidence),
        "prompt_version": result.prompt_version,
        "model": result.model,
    }


def _blank(value: int | None) -> object:
    return "" if value is None else value


def prepare_resume(path: Path) -> tuple[set[str], int]:
    """Keep an earlier run's finished results; drop its failures and any line a crash cut short.

    Returns the keys already done and how many lines were dropped (those
    articles run again). The file is rewritten atomically, so a crash here loses
    nothing either.
    """
    if not path.exists():
        return set(), 0
    kept: list[str] = []
    done: set[str] = set()
    dropped = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            dropped += 1
            continue
        key = data.get("key") if isinstance(data, dict) else None
        if key and data.get("status") == "ok" and key not in done:
            done.add(key)
            kept.append(line)
        else:
            dropped += 1
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    tmp.replace(path)
    return done, dropped


class ResultWriter:
    """Writes results to a file (or stdout) in JSONL or CSV, flushing after each one.

    ``append=True`` continues an existing JSONL file (see :func:`prepare_resume`).
    """

    def __init__(
        self, out: Path | None, fmt: OutputFormat = "jsonl", stream: IO[str] | None = None, append: bool = False
    ) -> None:
        self.fmt = fmt
        self._own = out is not None
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] = out.open("a" if append else "w", encoding="utf-8", newline="")
        else:
            assert stream is not None, "give an output path or a stream"
            self._file = stream
        self._csv = csv.DictWriter(self._file, fieldnames=CSV_COLUMNS) if fmt == "csv" else None
        if self._csv:
            self._csv.writeheader()

    def write(self, result: ExtractionResult) -> None:
        if self._csv is None:
            self._file.write(json.dumps(result.model_dump(mode="json"), ensure_ascii=False) + "\n")
        elif not result.ok:
            row = dict.fromkeys(CSV_COLUMNS, "")
            row.update(article_id=result.article_id, status=result.status, error=result.error or "",
                       prompt_version=result.prompt_version, model=result.model)  # fmt: skip
            self._csv.writerow(row)
        else:
            for n, event in enumerate(result.events):
                self._csv.writerow(event_row(result, n, event))
        self._file.flush()

    def close(self) -> None:
        if self._own:
            self._file.close()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
