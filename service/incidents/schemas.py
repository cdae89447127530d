"""The HTTP contract of crisis mode: signals, alerts, incidents, follow-ups, recovery posts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator, model_validator,
)  # fmt: skip

from service.drafting.context import DraftContext
from service.drafting.schemas import ComplaintIn
from service.incidents.models import AlertRecord, Incident, IncidentStatus
from service.models import Channel, Language, Severity

TitleText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SignalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    complaint: ComplaintIn
    context: DraftContext = Field(default_factory=DraftContext)
    created_at: AwareDatetime | None = Field(
        default=None, description="When the customer posted it (ISO 8601 with a time zone); now when absent."
    )


class SignalRead(BaseModel):
    id: str
    at: datetime
    channel: Channel
    issue_type: str
    severity: Severity
    language: Language
    reach: int | None
    incident_id: str | None
    link_score: float | None
    alerts: list[str] = Field(description="Ids of the alerts this signal tipped.")


class AlertRead(BaseModel):
    id: str
    issue_type: str
    topic: str | None = Field(description="For a topic alert: the complaint that tipped it; null for an issue-type alert.")
    window_start: datetime
    detected_at: datetime = Field(description="Event time of the complaint that tipped the test.")
    count: int
    baseline: float = Field(description="The count the recent rate predicts for the window.")
    p_value: float
    samples: list[str]
    incident_id: str | None

    @classmethod
    def of(cls, a: AlertRecord) -> AlertRead:
        return cls.model_validate(a.model_dump(exclude={"event_ids"}))


class AlertPage(BaseModel):
    items: list[AlertRead]


def _blank(v: str | None) -> str | None:
    return (v.strip() or None) if isinstance(v, str) else v


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=200, description="A short noun phrase: 'checkout outage'.")
    titles: dict[Language, TitleText] | None = Field(
        default=None, description='The title in other languages, for replies in them: {"id": "gangguan pembayaran"}.',
    )
    issue_types: list[str] | None = Field(default=None, max_length=20)
    status: IncidentStatus = IncidentStatus.investigating
    at_fault: StrictBool = False
    public_note: str | None = Field(default=None, max_length=2000)
    holding_statement: str | None = Field(default=None, max_length=2000)
    alert_id: str | None = Field(default=None, description="Open the incident from this alert (its issue type, topic and complaints).")

    _strip = field_validator("title", "public_note", "holding_statement")(_blank)


class IncidentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: IncidentStatus | None = None
    title: str | None = Field(default=None, max_length=200)
    titles: dict[Language, TitleText] | None = None
    issue_types: list[str] | None = Field(default=None, min_length=1, max_length=20)
    at_fault: StrictBool | None = None
    public_note: str | None = Field(default=None, max_length=2000)
    holding_statement: str | None = Field(default=None, max_length=2000)

    _strip = field_validator("title", "public_note", "holding_statement")(_blank)

    @model_validator(mode="after")
    def _no_nulls(self) -> IncidentPatch:
        for name in ("status", "title", "titles", "issue_types", "at_fault"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null or blank (public_note and holding_statement can)")
        return self


class AlertAttach(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alert_id: str = Field(description="An alert about this incident: its complaints are linked and become references.")


class IncidentRead(Incident):
    linked_count: int = Field(description="Complaints linked to the incident (drafted or only recorded).")


class IncidentPage(BaseModel):
    items: list[IncidentRead]


class RecoveryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel = Field(default=Channel.facebook, description="Where it will be posted; the text fits its length.")
    language: Language = Language.en
    what_changed: list[str] = Field(default_factory=list, max_length=10,
                                    description="What the brand changed, in its own words; nothing is invented.")  # fmt: skip
