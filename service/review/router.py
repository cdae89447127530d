"""The review queue and actions: GET /v1/drafts, approve, reject, regenerate, sent, audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from service.deps import AgentDep, ReviewDep, ReviewerDep, ServicesDep
from service.drafting.schemas import DraftRead
from service.models import Channel, Draft, DraftStatus, Language, Severity
from service.review import audit as audit_chain
from service.review.queue import DraftFilter
from service.review.schemas import (
    ApproveRequest, AuditEventRead, AuditPage, DraftQueuePage, DraftSummary, RegenerateRequest, RejectRequest,
    SentRequest,
)  # fmt: skip
from service.review.service import etag

router = APIRouter(prefix="/v1/drafts", tags=["review"])
IfMatch = Annotated[str | None, Header(alias="If-Match", description='The draft version you saw, e.g. "3".')]


def _read(draft: Draft, response: Response) -> DraftRead:
    response.headers["ETag"] = etag(draft)
    return DraftRead.model_validate(draft.model_dump())


@router.get("", response_model=DraftQueuePage)
def queue(
    services: ServicesDep,
    _: AgentDep,
    status: DraftStatus | None = None,
    severity: Severity | None = None,
    issue_type: str | None = None,
    language: Language | None = None,
    channel: Channel | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DraftQueuePage:
    """The review queue: earliest deadline first, then the most severe; with counts per status."""
    page = services.store.list(DraftFilter(
        status=status, severity=severity, issue_type=issue_type, language=language, channel=channel,
        limit=limit, offset=offset,
    ))  # fmt: skip
    items = [
        DraftSummary(
            id=d.id, status=d.status, version=d.version, complaint=d.complaint, classification=d.classification,
            deadline=d.deadline, created_at=d.created_at, variant_count=len(d.variants),
            all_variants_pass=all(v.rubric.passed for v in d.variants), review=d.review,
        )  # fmt: skip
        for d in page.items
    ]
    return DraftQueuePage(items=items, total=page.total, counts=page.counts, limit=page.limit, offset=page.offset)


@router.post("/{draft_id}/approve", response_model=DraftRead)
def approve(draft_id: str, body: ApproveRequest, review: ReviewDep, who: ReviewerDep, response: Response,
            if_match: IfMatch = None) -> DraftRead:  # fmt: skip
    """Approve a variant or your edit of it. Edits are re-checked; a failing blocking criterion needs
    override_reason. Where the playbook asks for two reviewers, the first approval is recorded and a
    second, different reviewer completes it."""
    draft = review.approve(
        draft_id, who, variant_id=body.variant_id, edited_text=body.edited_text, note=body.reviewer_note,
        override_reason=body.override_reason, if_match=if_match,
    )  # fmt: skip
    return _read(draft, response)


@router.post("/{draft_id}/reject", response_model=DraftRead)
def reject(draft_id: str, body: RejectRequest, review: ReviewDep, who: ReviewerDep, response: Response,
           if_match: IfMatch = None) -> DraftRead:  # fmt: skip
    return _read(review.reject(draft_id, who, reason=body.reason, if_match=if_match), response)


@router.post("/{draft_id}/regenerate", response_model=DraftRead, status_code=201)
def regenerate(draft_id: str, body: RegenerateRequest, review: ReviewDep, who: ReviewerDep, response: Response,
               if_match: IfMatch = None) -> DraftRead:  # fmt: skip
    """Draft the complaint again; the old draft becomes superseded and points to the new one."""
    return _read(review.regenerate(draft_id, who, feedback=body.feedback, if_match=if_match), response)


@router.post("/{draft_id}/sent", response_model=DraftRead)
def sent(draft_id: str, body: SentRequest, review: ReviewDep, who: ReviewerDep, response: Response) -> DraftRead:
    """Record that an approved reply was delivered (by the help desk or the caller)."""
    return _read(review.mark_sent(draft_id, who, external_id=body.external_id), response)


@router.get("/{draft_id}/audit", response_model=AuditPage)
def audit(draft_id: str, services: ServicesDep, review: ReviewDep, _: AgentDep) -> AuditPage:
    review.get(draft_id)  # 404 for an unknown draft
    chain = audit_chain.verify(services.store.audit(), head=services.store.audit_head())
    events = [AuditEventRead.model_validate(e.model_dump()) for e in services.store.audit(draft_id)]
    return AuditPage(draft_id=draft_id, items=events, chain_verified=chain.ok)
