"""Eval case files: one JSON object per line (see evals/README.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.knowledge.pack import Pack
from service.models import PUBLIC_CHANNELS, Author, Channel, Draft, DraftStatus, Language, Severity


class Expect(BaseModel):
    model_config = ConfigDict(extra="allow")
    issue_type: str | None = None
    severity: Severity | None = None
    signals: list[str] | None = None  # the signals really present (None: not labelled)
    must_not_contain: list[str] = Field(default_factory=list)
    must_contain_any: list[str] = Field(default_factory=list)


class DraftCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    text: str = Field(min_length=1, max_length=10_000)
    channel: Channel
    public: bool
    language: Language | None = None
    author: Author | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    expect: Expect = Field(default_factory=Expect)
    tags: list[str] = Field(default_factory=list)
    review: dict[str, Any] | None = None  # for cases exported from reviews: what the reviewer did


def load_cases(path: Path) -> list[DraftCase]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                cases.append(DraftCase.model_validate(json.loads(line)))
            except Exception as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return cases


def taxonomy_cases(pack: Pack) -> list[DraftCase]:
    """The pack's own labelled examples as cases, spread over every channel."""
    channels = list(Channel)
    cases = []
    for t in pack.taxonomy.issue_types:
        for i, ex in enumerate(t.examples):
            ch = channels[(len(cases) + i) % len(channels)]
            cases.append(
                DraftCase(
                    id=f"tax-{t.id}-{i}", text=ex.text, channel=ch, public=ch in PUBLIC_CHANNELS,
                    expect=Expect(issue_type=t.id), tags=["taxonomy"],
                )  # fmt: skip
            )
    return cases


def cases_from_reviews(drafts: Iterable[Draft]) -> Iterator[DraftCase]:
    """Rejected drafts and approvals with an edit, as eval cases (the complaint as redacted)."""
    for d in drafts:
        rejected = d.status == DraftStatus.rejected
        edited = any(a.edited for a in d.review.approvals)
        if not (rejected or edited):
            continue
        review: dict[str, Any] = {"draft_id": d.id, "outcome": "rejected" if rejected else "edited",
                                  "variants": [v.text for v in d.variants]}  # fmt: skip
        if rejected:
            review["reason"] = d.review.rejected_reason
        else:
            review["approved_text"] = d.review.final_text
            review["notes"] = [a.note for a in d.review.approvals if a.note]
        yield DraftCase(
            id=f"review-{d.id}", text=d.redacted_text, channel=d.complaint.channel, public=d.complaint.public,
            language=d.classification.language, context=d.context,
            expect=Expect(issue_type=d.classification.issue_type), tags=["from_review", review["outcome"]],
            review=review,
        )  # fmt: skip
