"""Score many texts against the rubric and summarise, for ``POST /v1/tone/evaluate`` and ``tenang eval tone``.

A text passes when it passes every named criterion (none named: the rubric's overall verdict). With a
fail label, texts with that label should fail and all others pass, which gives precision, recall and F1
of failing: how well the rubric catches what a team calls a bad reply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.drafting.context import DraftContext
from service.drafting.pipeline import DraftingPipeline
from service.errors import InvalidInput
from service.models import Channel, Complaint, RubricVerdict


@dataclass
class ToneCase:
    text: str
    channel: Channel
    public: bool
    complaint: Complaint | None = None
    context: DraftContext = field(default_factory=DraftContext)
    label: str | None = None


@dataclass
class CaseResult:
    passed: bool
    failed: list[str]
    verdict: RubricVerdict
    expected_to_fail: bool | None  # None without a fail label


@dataclass
class ToneEvaluation:
    summary: dict[str, Any]
    per_criterion_pass_rate: dict[str, float]
    results: list[CaseResult]

    def disagreements(self) -> list[int]:
        """Indexes of texts the rubric judged against their label (needs a fail label)."""
        return [i for i, r in enumerate(self.results)
                if r.expected_to_fail is not None and r.expected_to_fail == r.passed]  # fmt: skip


def check_criteria(pipeline: DraftingPipeline, criteria: Sequence[str] | None) -> None:
    known = [c.id for c in pipeline.pack.rubric.criteria]
    unknown = [c for c in criteria or () if c not in known]
    if unknown:
        raise InvalidInput(f"unknown criteria {', '.join(unknown)}; the rubric has {', '.join(known)}")


def evaluate_tone(
    pipeline: DraftingPipeline,
    cases: Sequence[ToneCase],
    *,
    criteria: Sequence[str] | None = None,
    fail_label: str | None = None,
    on_case: Callable[[], None] | None = None,
) -> ToneEvaluation:
    check_criteria(pipeline, criteria)
    results: list[CaseResult] = []
    per_criterion_fail: Counter[str] = Counter()
    for case in cases:
        verdict = pipeline.check_text(case.text, complaint=case.complaint, channel=case.channel,
                                      public=case.public, context=case.context)  # fmt: skip
        failed = [c.id for c in verdict.criteria if not c.passed]
        per_criterion_fail.update(failed)
        passed = verdict.passed if not criteria else not any(c in failed for c in criteria)
        expected = (case.label == fail_label) if fail_label is not None else None
        results.append(CaseResult(passed=passed, failed=failed, verdict=verdict, expected_to_fail=expected))
        if on_case is not None:
            on_case()
    n = len(results)
    summary: dict[str, Any] = {"n": n, "pass_rate": round(sum(r.passed for r in results) / n, 4) if n else None}
    if fail_label is not None and n:
        tp = sum(r.expected_to_fail and not r.passed for r in results)
        fp = sum((not r.expected_to_fail) and not r.passed for r in results)
        fn = sum(r.expected_to_fail and r.passed for r in results)
        tn = n - tp - fp - fn
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        summary |= {"accuracy": round((tp + tn) / n, 4), "precision_fail": round(precision, 4),
                    "recall_fail": round(recall, 4), "f1_fail": round(f1, 4)}  # fmt: skip
    per = {c.id: round(1 - per_criterion_fail[c.id] / n, 4) if n else 0.0 for c in pipeline.pack.rubric.criteria}
    return ToneEvaluation(summary=summary, per_criterion_pass_rate=per, results=results)
