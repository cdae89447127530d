"""The review queue's filter and page (shared by the store and the API)."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.models import Draft


@dataclass
class DraftFilter:
    status: str | None = None
    severity: str | None = None
    issue_type: str | None = None
    language: str | None = None
    channel: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass
class DraftPage:
    items: list[Draft]
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    limit: int = 50
    offset: int = 0
