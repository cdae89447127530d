"""The records of crisis mode: complaint signals, alerts, incidents, and the crisis file's settings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.errors import PackInvalid
from service.knowledge.pack import Patterns
from service.models import Channel, IncidentStatus, Language, Severity


class Signal(BaseModel):
    """One complaint Tenang saw (drafted, or only recorded), in event time."""

    id: str
    at: datetime
    received_at: datetime
    channel: Channel
    public: bool
    issue_type: str
    severity: Severity
    language: Language
    reach: int | None = None  # the author's followers, when known
    text: str  # redacted
    embedding: list[float] = Field(default_factory=list, exclude=True)
    draft_id: str | None = None
    incident_id: str | None = None
    link_score: float | None = None


class AlertRecord(BaseModel):
    id: str
    issue_type: str
    topic: str | None
    window_start: datetime
    detected_at: datetime
    count: int
    baseline: float
    p_value: float
    samples: list[str]
    event_ids: list[str] = Field(default_factory=list)
    incident_id: str | None = None


class TimelineEntry(BaseModel):
    at: datetime
    what: str
    actor: str | None = None


class Incident(BaseModel):
    id: str
    title: str
    titles: dict[Language, str] = Field(default_factory=dict, description="The title in other languages.")
    issue_types: list[str]
    status: IncidentStatus
    at_fault: bool = False
    public_note: str | None = None
    holding_statement: str | None = None
    alert_id: str | None = None
    alert_ids: list[str] = Field(default_factory=list, description="Every alert about it: the one it was opened from, "
                                 "then those attached since (POST /v1/incidents/{id}/alerts).")  # fmt: skip
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    version: int = 1
    timeline: list[TimelineEntry] = Field(default_factory=list)
    follow_ups: list[str] = Field(default_factory=list, description="Ids of the follow-up drafts prepared.")
    recovery_posts: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _opening_alert_listed(self) -> Incident:
        # incidents stored before alert_ids existed name only the alert they were opened from
        if self.alert_id and self.alert_id not in self.alert_ids:
            self.alert_ids.insert(0, self.alert_id)
        return self

    @property
    def open(self) -> bool:
        return self.status is not IncidentStatus.resolved


# ---------------------------------------------------------------- the crisis file (knowledge/crisis.yaml)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Linking(_Strict):
    threshold: float = Field(ge=0, le=1)
    any_type_threshold: float | None = Field(default=None, ge=0, le=1)
    lookback_hours: float = Field(gt=0)
    references: int = Field(ge=1)


class CrisisMode(_Strict):
    approvals: int = Field(ge=1, le=2)
    deadline_minutes: int = Field(ge=1)


class FollowUpNews(_Strict):
    identified: str
    monitoring: str
    resolved: str


class FollowUpTexts(_Strict):
    identified: list[list[str]] = Field(min_length=1)
    monitoring: list[list[str]] = Field(min_length=1)
    resolved: list[list[str]] = Field(min_length=1)
    news: FollowUpNews
    sorry_at_fault: str
    sorry: str


class RecoveryTexts(_Strict):
    opening: str
    duration: str
    hours: tuple[str, str]  # one hour, n hours
    sorry_at_fault: str
    sorry: str
    changes: str
    close: str


class CrisisFile(_Strict):
    version: int
    linking: Linking
    crisis_mode: CrisisMode
    follow_up: dict[Language, FollowUpTexts]
    recovery: dict[Language, RecoveryTexts]
    commitments: Patterns

    @property
    def ref(self) -> str:
        return f"crisis@v{self.version}"


def load_crisis(path: Path) -> CrisisFile:
    try:
        return CrisisFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError, yaml.YAMLError) as exc:
        raise PackInvalid(f"{path}: {str(exc)[:500]}") from exc
