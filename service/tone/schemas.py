"""The HTTP contract of ``POST /v1/tone/evaluate``: many texts in, per-text verdicts and a summary out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from service.drafting.schemas import ToneCheckRequest
from service.models import Channel, RubricVerdict
from service.tone.judge import JUDGE_CRITERIA

MAX_ITEMS = 500


class ToneItem(ToneCheckRequest):
    label: str | None = Field(default=None, max_length=100, description="Your own label for this text.")
    fail: list[str] | None = Field(
        default=None, max_length=20,
        description="The criteria a reviewer says this text breaks ([] for a good one): adds each "
        "criterion's precision and recall of failing to the summary.",
    )


    subjective: dict[str, StrictBool] | None = Field(
        default=None,
        description="A reviewer's view of the judge's criteria (empathy, transparency, specificity; true: meets "
        "it): with judging on, adds the judge's agreement with these labels to the summary.",
    )

    @field_validator("subjective")
    @classmethod
    def _known(cls, v: dict[str, bool] | None) -> dict[str, bool] | None:
        if v and (unknown := sorted(set(v) - set(JUDGE_CRITERIA))):
            raise ValueError(f"unknown judge criteria {', '.join(unknown)}; use {', '.join(JUDGE_CRITERIA)}")
        return v


class ToneEvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ToneItem] = Field(min_length=1, max_length=MAX_ITEMS, description="1 to 500 texts.")
    criteria: list[str] | None = Field(
        default=None, description="A text passes when it passes all of these; default: the overall verdict."
    )
    fail_label: str | None = Field(
        default=None, description="Items with this label should fail and all others pass: adds accuracy, "
        "precision, recall and F1 of failing to the summary.",
    )
    channel: Channel = Field(default=Channel.chat, description="Channel of items that give none.")
    public: StrictBool = Field(default=False, description="Visibility of items that give none.")
    judge: StrictBool = Field(
        default=False, description="Ask the model judge about every item (one model call each; 409 without a model)."
    )


class CriterionAgreement(BaseModel):
    precision_fail: float
    recall_fail: float
    f1_fail: float
    support: int = Field(description="Texts labelled as breaking this criterion.")
    flagged: int = Field(description="Texts the rubric failed on this criterion.")


class JudgeCriterionAgreement(BaseModel):
    n: int = Field(description="Items a reviewer labelled on this criterion that the judge scored.")
    agreement: float
    kappa: float | None
    precision_fail: float
    recall_fail: float
    f1_fail: float
    human_pass_rate: float
    judge_pass_rate: float


class JudgeAgreement(BaseModel):
    model: str | None
    prompt: str | None
    judged: int
    errors: int = Field(description="Items the judge could not score (the model failed or answered badly).")
    per_criterion: dict[str, JudgeCriterionAgreement]


class ToneSummary(BaseModel):
    n: int
    pass_rate: float
    accuracy: float | None = None
    precision_fail: float | None = None
    recall_fail: float | None = None
    f1_fail: float | None = None
    per_criterion_pass_rate: dict[str, float]
    per_criterion: dict[str, CriterionAgreement] | None = None
    judge: JudgeAgreement | None = None


class ToneItemResult(BaseModel):
    index: int
    label: str | None
    passed: bool
    failed: list[str] = Field(description="Criteria this text failed.")
    verdict: RubricVerdict


class ToneEvaluateResponse(BaseModel):
    summary: ToneSummary
    items: list[ToneItemResult]
