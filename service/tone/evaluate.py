"""Score many texts against the rubric and summarise, for ``POST /v1/tone/evaluate`` and ``tenang eval tone``.

A text passes when it passes every named criterion (none named: the rubric's overall verdict). With a
fail label, texts with that label should fail and all others pass, which gives precision, recall and F1
of failing: how well the rubric catches what a team calls a bad reply. Texts labelled per criterion
(``expected_fail``: the criteria a reviewer says the text breaks, [] for a good one) give the same
figures for each criterion, and should fail when they break any named criterion.
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
from service.tone.judge import JUDGE_CRITERIA


@dataclass
class ToneCase:
    text: str
    channel: Channel
    public: bool
    complaint: Complaint | None = None
    context: DraftContext = field(default_factory=DraftContext)
    label: str | None = None
    expected_fail: list[str] | None = None  # criteria a reviewer says this text breaks
    subjective: dict[str, bool] | None = None  # a reviewer's view of the judge's criteria (True: meets it)
    judge: bool = False  # ask the model judge about this text


@dataclass
class CaseResult:
    passed: bool
    failed: list[str]
    verdict: RubricVerdict
    expected_to_fail: bool | None  # None without a fail label or per-criterion labels


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


def unknown_fail_criteria(pipeline: DraftingPipeline, cases: Sequence[ToneCase]) -> tuple[int, list[str]] | None:
    """The first case whose ``expected_fail`` names criteria the rubric does not have, and those names."""
    known = {c.id for c in pipeline.pack.rubric.criteria}
    for i, case in enumerate(cases):
        if unknown := sorted(set(case.expected_fail or ()) - known):
            return i, unknown
    return None


def _prf_of(want: Sequence[bool], got: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of flagging ``got`` against the true flags ``want``."""
    tp = sum(w and g for w, g in zip(want, got, strict=True))
    flagged, wanted = sum(got), sum(want)
    precision = tp / flagged if flagged else 0.0
    recall = tp / wanted if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision_fail": round(precision, 4), "recall_fail": round(recall, 4), "f1_fail": round(f1, 4)}


def _expected(case: ToneCase, criteria: Sequence[str] | None, fail_label: str | None) -> bool | None:
    if fail_label is not None:
        return case.label == fail_label
    if case.expected_fail is not None:
        return any(c in case.expected_fail for c in criteria) if criteria else bool(case.expected_fail)
    return None


def evaluate_tone(
    pipeline: DraftingPipeline,
    cases: Sequence[ToneCase],
    *,
    criteria: Sequence[str] | None = None,
    fail_label: str | None = None,
    judge: bool = False,
    on_case: Callable[[], None] | None = None,
) -> ToneEvaluation:
    check_criteria(pipeline, criteria)
    results: list[CaseResult] = []
    per_criterion_fail: Counter[str] = Counter()
    for case in cases:
        verdict = pipeline.check_text(case.text, complaint=case.complaint, channel=case.channel,
                                      public=case.public, context=case.context, judge=judge or case.judge)  # fmt: skip
        failed = [c.id for c in verdict.criteria if not c.passed]
        per_criterion_fail.update(failed)
        passed = verdict.passed if not criteria else not any(c in failed for c in criteria)
        expected = _expected(case, criteria, fail_label)
        results.append(CaseResult(passed=passed, failed=failed, verdict=verdict, expected_to_fail=expected))
        if on_case is not None:
            on_case()
    n = len(results)
    summary: dict[str, Any] = {"n": n, "pass_rate": round(sum(r.passed for r in results) / n, 4) if n else None}
    judged = [r for r in results if r.expected_to_fail is not None]
    if judged:
        want = [bool(r.expected_to_fail) for r in judged]
        got = [not r.passed for r in judged]
        accuracy = sum(w == g for w, g in zip(want, got, strict=True)) / len(judged)
        summary |= {"accuracy": round(accuracy, 4), **_prf_of(want, got)}
    labelled = [(case, r) for case, r in zip(cases, results, strict=True) if case.expected_fail is not None]
    if labelled:  # each criterion's own precision and recall of failing, against the reviewers' labels
        per_criterion = {}
        for c in pipeline.pack.rubric.criteria:
            want = [c.id in case.expected_fail for case, _ in labelled]  # type: ignore[operator]
            got = [c.id in r.failed for _, r in labelled]
            per_criterion[c.id] = {**_prf_of(want, got), "support": sum(want), "flagged": sum(got)}
        summary["per_criterion"] = per_criterion
    if any(r.verdict.judge is not None for r in results):
        summary["judge"] = judge_agreement(cases, [r.verdict for r in results])
    per = {c.id: round(1 - per_criterion_fail[c.id] / n, 4) if n else 0.0 for c in pipeline.pack.rubric.criteria}
    return ToneEvaluation(summary=summary, per_criterion_pass_rate=per, results=results)


def _kappa(pairs: list[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two raters' pass/fail: agreement beyond what their pass rates give by chance."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    pa, pb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return round((observed - chance) / (1 - chance), 4) if chance < 1 else None


def judge_agreement(cases: Sequence[ToneCase], verdicts: Sequence[RubricVerdict]) -> dict[str, Any]:
    """How far the model judge agrees with people on the subjective criteria: per criterion, on the texts
    a reviewer labelled (``subjective``), the share of equal pass/fail calls, Cohen's kappa, and the
    judge's precision and recall of failing. Texts the judge could not score are counted, not guessed."""
    first = next((v.judge for v in verdicts if v.judge is not None), None)
    out: dict[str, Any] = {
        "model": first.model if first else None, "prompt": first.prompt if first else None,
        "judged": sum(1 for v in verdicts if v.judge is not None and not v.judge.error),
        "errors": sum(1 for v in verdicts if v.judge is not None and v.judge.error),
    }  # fmt: skip
    per: dict[str, Any] = {}
    for criterion in JUDGE_CRITERIA:
        pairs = []  # (human says it meets the criterion, judge says so)
        for case, v in zip(cases, verdicts, strict=True):
            human = (case.subjective or {}).get(criterion)
            score = next((s for s in (v.judge.scores if v.judge else []) if s.criterion == criterion), None)
            if human is not None and score is not None:
                pairs.append((bool(human), score.passed))
        if not pairs:
            continue
        per[criterion] = {
            "n": len(pairs), "agreement": round(sum(h == j for h, j in pairs) / len(pairs), 4),
            "kappa": _kappa(pairs), **_prf_of([not h for h, _ in pairs], [not j for _, j in pairs]),
            "human_pass_rate": round(sum(h for h, _ in pairs) / len(pairs), 4),
            "judge_pass_rate": round(sum(j for _, j in pairs) / len(pairs), 4),
        }  # fmt: skip
    out["per_criterion"] = per
    return out
