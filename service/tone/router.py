"""POST /v1/tone/check: score any text against the rubric; POST /v1/tone/evaluate: a batch, summarised."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import AgentDep, PipelineDep
from service.drafting.schemas import ToneCheckRequest
from service.errors import InvalidInput
from service.models import RubricVerdict
from service.tone.evaluate import ToneCase, evaluate_tone, unknown_fail_criteria
from service.tone.schemas import ToneEvaluateRequest, ToneEvaluateResponse, ToneItemResult, ToneSummary

router = APIRouter(prefix="/v1/tone", tags=["tone"])


@router.post("/check", response_model=RubricVerdict)
def check_tone(body: ToneCheckRequest, pipeline: PipelineDep, _: AgentDep) -> RubricVerdict:
    complaint, channel, public = body.resolved(pipeline.public_channels)
    return pipeline.check_text(body.text, complaint=complaint, channel=channel, public=public, context=body.context,
                               judge=body.judge)  # fmt: skip


@router.post("/evaluate", response_model=ToneEvaluateResponse)
def evaluate(body: ToneEvaluateRequest, pipeline: PipelineDep, _: AgentDep) -> ToneEvaluateResponse:
    """Score up to 500 replies written anywhere; the summary has the figures `tenang eval tone` prints."""
    cases = []
    for item in body.items:
        complaint, channel, public = item.resolved(pipeline.public_channels, channel=body.channel, public=body.public)
        cases.append(ToneCase(text=item.text, channel=channel, public=public, complaint=complaint,
                              context=item.context, label=item.label, expected_fail=item.fail,
                              subjective=item.subjective, judge=item.judge))  # fmt: skip
    if bad := unknown_fail_criteria(pipeline, cases):
        raise InvalidInput(f"items[{bad[0]}].fail: unknown criteria {', '.join(bad[1])}")
    result = evaluate_tone(pipeline, cases, criteria=body.criteria, fail_label=body.fail_label, judge=body.judge)
    return ToneEvaluateResponse(
        summary=ToneSummary(**result.summary, per_criterion_pass_rate=result.per_criterion_pass_rate),
        items=[ToneItemResult(index=i, label=item.label, passed=r.passed, failed=r.failed, verdict=r.verdict)
               for i, (item, r) in enumerate(zip(body.items, result.results, strict=True))],  # fmt: skip
    )
