"""POST /v1/drafts, GET /v1/drafts/{id}, POST /v1/classify."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from service.deps import AgentDep, CrisisDep, PipelineDep, ReviewDep
from service.drafting.schemas import ClassifyRequest, DraftCreate, DraftRead
from service.models import Classification
from service.review.service import etag

router = APIRouter(prefix="/v1", tags=["drafting"])


@router.post("/drafts", status_code=status.HTTP_201_CREATED, response_model=DraftRead)
def create_draft(body: DraftCreate, pipeline: PipelineDep, crisis: CrisisDep, who: AgentDep, response: Response) -> DraftRead:
    """Classify a complaint, retrieve policy and past replies, draft reply variants, check each against
    the rubric, and store the draft as pending_review. A complaint that belongs to an open incident is
    linked to it (``incident_id``) and drafted with its facts, in crisis mode; every complaint is recorded
    as a signal for spike detection."""
    draft = crisis.draft(
        body.complaint.to_domain(pipeline.public_channels), body.context, variants=body.options.variants,
        actor=who.actor, role=who.role.value,
    )
    response.headers["ETag"] = etag(draft)
    response.headers["Location"] = f"/v1/drafts/{draft.id}"
    return DraftRead.model_validate(draft.model_dump())


@router.get("/drafts/{draft_id}", response_model=DraftRead)
def get_draft(draft_id: str, review: ReviewDep, _: AgentDep, response: Response) -> DraftRead:
    """The draft, with its version as the ETag (send it back as If-Match when you act on it)."""
    draft = review.get(draft_id)
    response.headers["ETag"] = etag(draft)
    return DraftRead.model_validate(draft.model_dump())


@router.post("/classify", response_model=Classification)
def classify_complaint(body: ClassifyRequest, pipeline: PipelineDep, _: AgentDep) -> Classification:
    return pipeline.classify(body.complaint.to_domain(pipeline.public_channels), body.context)
