"""POST /v1/drafts, GET /v1/drafts/{id}, POST /v1/classify."""

from __future__ import annotations

from fastapi import APIRouter, status

from service.deps import PipelineDep
from service.drafting.schemas import ClassifyRequest, DraftCreate, DraftRead
from service.models import Classification

router = APIRouter(prefix="/v1", tags=["drafting"])


@router.post("/drafts", status_code=status.HTTP_201_CREATED, response_model=DraftRead)
def create_draft(body: DraftCreate, pipeline: PipelineDep) -> DraftRead:
    """Classify a complaint, retrieve policy and past replies, draft reply variants, check each against
    the rubric, and store the draft as pending_review."""
    draft = pipeline.draft(body.complaint.to_domain(), body.context, variants=body.options.variants)
    return DraftRead.model_validate(draft.model_dump())


@router.get("/drafts/{draft_id}", response_model=DraftRead)
def get_draft(draft_id: str, pipeline: PipelineDep) -> DraftRead:
    return DraftRead.model_validate(pipeline.get(draft_id).model_dump())


@router.post("/classify", response_model=Classification)
def classify_complaint(body: ClassifyRequest, pipeline: PipelineDep) -> Classification:
    return pipeline.classify(body.complaint.to_domain(), body.context)
