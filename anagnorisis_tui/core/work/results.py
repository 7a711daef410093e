"""What the child tasks (tasks.py) send back, as types: each result and event has `to_json`
(the child's side) and `from_json` (the caller's), so neither side reads string-keyed dicts.

Light on purpose: the app's process imports this module, never the tasks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from anagnorisis_tui.core.catalogue.scan_types import FileEvent, IngestSummary, ScanSummary

__all__ = [
    "EmbedResult",
    "FileEvent",
    "IngestResult",
    "ThumbEvent",
    "TrainResult",
    "VectorResult",
    "event_from_json",
]


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class EmbedResult:
    """The embedding that followed an ingest with a model (what the ingest pass left, the
    index and the predictions)."""

    model_id: str
    embedded: int
    errors: int
    missing: int
    cancelled: bool
    label: str  # the model as a user reads it
    device: str
    engine: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EmbedResult:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class IngestResult:
    """The `ingest` task's result: the scan's summary with the ingest pass's (`scan.ingest`,
    None when it did not run) and, when asked to embed, the embedding's."""

    scan: ScanSummary
    embed: EmbedResult | None = None

    @property
    def ingest(self) -> IngestSummary:
        return self.scan.ingest or IngestSummary()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scan": self.scan.to_dict()}
        if self.scan.ingest is not None:
            out["ingest"] = self.scan.ingest.to_json()
        if self.embed is not None:
            out["embed"] = self.embed.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestResult:
        scan = ScanSummary.from_json(data["scan"])
        if data.get("ingest") is not None:
            scan.ingest = IngestSummary.from_json(data["ingest"])
        embed = data.get("embed")
        return cls(scan, EmbedResult.from_json(embed) if embed is not None else None)


@dataclass(frozen=True)
class TrainResult:
    """The `train` task's result: the report (TrainReport.as_dict) or cancelled."""

    report: dict[str, Any] | None = None
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainResult:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class VectorResult:
    """The `image_vector` task's result: the unit vector of an image file."""

    vector: list[float]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VectorResult:
        return cls(**_known(cls, data))


@dataclass(frozen=True)
class ThumbEvent:
    """The `thumbnails` task made (error "") or could not make a content's thumbnail."""

    hash: str
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": "thumb", **asdict(self)}


def event_from_json(data: dict[str, Any]) -> FileEvent | ThumbEvent | None:
    """A task's event from its JSON (see `to_json`); None for a kind this side does not know."""
    kind = data.get("kind")
    if kind == "file":
        return FileEvent.from_json(data)
    if kind == "thumb":
        return ThumbEvent(**_known(ThumbEvent, data))
    return None
