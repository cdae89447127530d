"""The HTTP contract of review: the queue page, the actions, the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.models import Classification, Complaint, DraftStatus, Review

Note = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=2000)]
Reason = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=2000)]


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variant_id: str | None = Field(default=None, description="Approve one variant as it is...")
    edited_text: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=10_000)] | None = Field(
        default=None, description="...or approve your edit of it (re-checked against the rubric)."
    )
    reviewer_note: Note | None = None
    override_reason: Note | None = Field(
        default=None, description="Required to approve text that fails a blocking rubric criterion; recorded."
    )


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class RegenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feedback: Note | None = None


class SentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: Annotated[str, StringConstraints(strict=True, max_length=200)] | None = None


class DraftSummary(BaseModel):
    id: str
    status: DraftStatus
    version: int
    complaint: Complaint
    classification: Classification
    deadline: datetime
    created_at: datetime
    variant_count: int
    all_variants_pass: bool
    review: Review


class DraftQueuePage(BaseModel):
    items: list[DraftSummary]
    total: int
    counts: dict[str, int]
    limit: int
    offset: int


class AuditEventRead(BaseModel):
    seq: int
    draft_id: str | None
    actor: str
    role: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    text_hash: str | None
    prompt_refs: dict[str, str]
    at: datetime
    hash: str


class AuditPage(BaseModel):
    draft_id: str
    items: list[AuditEventRead]
    chain_verified: bool
