"""The optional model judge: any OpenAI-compatible chat model scores a reply's subjective qualities
(empathy, transparency, specificity) from 1 to 5 with a reason, through the versioned prompt
``prompts/tone_judge``.

It is advisory. Its verdict sits beside the rubric's (``RubricVerdict.judge``) and never changes
``passed``: the deterministic and learned blocking checks decide, judge or not. How far to trust it is
measured by ``tenang eval tone --judge`` against human labels (``evals/datasets/tone/subjective.v1``).
A model that fails or answers badly leaves an ``error`` on the judge's verdict, never a failed check.
"""

from __future__ import annotations

import logging
import time

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.errors import ModelOutputInvalid, UpstreamError
from service.models import Channel, JudgeScore, JudgeVerdict, Language
from service.ports import ChatModel
from service.prompting.output import json_object
from service.prompting.registry import Prompt

log = logging.getLogger(__name__)

JUDGE_CRITERIA = ("empathy", "transparency", "specificity")
PASS_SCORE = 3  # on the prompt's 1-to-5 scale, 3 or more meets the criterion


class _Score(BaseModel):
    model_config = ConfigDict(extra="ignore")
    score: int = Field(ge=1, le=5)
    reason: str = Field(default="", max_length=2000)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    empathy: _Score
    transparency: _Score
    specificity: _Score


def parse_judgement(raw: str) -> dict[str, _Score]:
    """Read the model's JSON answer; raise ModelOutputInvalid on anything else."""
    try:
        answer = _Answer.model_validate(json_object(raw, "the judge's answer"))
    except ValidationError as exc:
        raise ModelOutputInvalid(f"the judge's answer is not the agreed JSON: {str(exc)[:200]}") from exc
    return {c: getattr(answer, c) for c in JUDGE_CRITERIA}


class ToneJudge:
    def __init__(self, chat: ChatModel, prompt: Prompt, brand_name: str) -> None:
        self.chat, self.prompt, self.brand_name = chat, prompt, brand_name

    def judge(
        self, text: str, *, complaint: str | None, channel: Channel, public: bool, language: Language | None
    ) -> JudgeVerdict:
        """Score one reply. Never raises for the model's failures: they become ``error``."""
        common = {"model": self.chat.model, "prompt": f"{self.prompt.file.name}@{self.prompt.ref_str}"}
        messages = self.prompt.render(
            brand=self.brand_name, language=language.value if language else "unknown", channel=channel.value,
            public="yes" if public else "no", complaint=complaint or "(not given)", reply=text,
        )  # fmt: skip
        t0 = time.perf_counter()
        try:
            scores = parse_judgement(self.chat.complete(messages))
        except UpstreamError as exc:
            log.warning("tone judge failed: %s %s", exc.code, exc.detail)
            return JudgeVerdict(**common, error=f"{exc.code}: {exc.detail}")
        log.info("tone judge prompt=%s model=%s latency_ms=%d", common["prompt"], self.chat.model,
                 (time.perf_counter() - t0) * 1000)  # fmt: skip
        return JudgeVerdict(
            **common,
            scores=[
                JudgeScore(criterion=c, score=s.score, passed=s.score >= PASS_SCORE, reason=s.reason.strip())
                for c, s in scores.items()
            ],
        )
