"""POST /v1/tone/check: score any text against the rubric."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import AgentDep, PipelineDep
from service.drafting.schemas import ToneCheckRequest
from service.models import RubricVerdict

router = APIRouter(prefix="/v1/tone", tags=["tone"])


@router.post("/check", response_model=RubricVerdict)
def check_tone(body: ToneCheckRequest, pipeline: PipelineDep, _: AgentDep) -> RubricVerdict:
    complaint, channel, public = body.resolved(pipeline.public_channels)
    return pipeline.check_text(body.text, complaint=complaint, channel=channel, public=public, context=body.context)
