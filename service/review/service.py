"""Review actions: approve (with edits, overrides and two-reviewer tiers), reject, regenerate, send.

Each action reads the draft, checks the state table and the caller's precondition, builds the new draft
and its audit events, and hands both to the store in one transaction that only succeeds if nobody
changed the draft in between: two reviewers acting at once yield exactly one success.
"""

from __future__ import annotations

import re
from datetime import datetime

from service.auth.keys import Principal, Role
from service.drafting.pipeline import DraftingPipeline
from service.errors import Conflict, DraftNotFound, InvalidInput, OverrideRequired, PreconditionFailed
from service.models import Approval, Draft, DraftKind, DraftStatus, RubricVerdict
from service.ports import Clock
from service.review.audit import AuditEntry, text_hash
from service.review.states import ensure_transition


ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def etag(draft: Draft) -> str:
    return f'"{draft.version}"'


def failing_blocking(verdict: RubricVerdict) -> list[str]:
    return [c.id for c in verdict.criteria if c.blocking and not c.passed]


class ReviewService:
    def __init__(self, *, store, pipeline: DraftingPipeline, clock: Clock) -> None:  # type: ignore[no-untyped-def]
        self.store, self.pipeline, self.clock = store, pipeline, clock

    # ------------------------------------------------------------ helpers

    def get(self, draft_id: str) -> Draft:
        draft = self.store.get(draft_id)
        if draft is None:
            raise DraftNotFound(f"no draft with id {draft_id!r}")
        return draft

    def _current(self, draft_id: str, if_match: str | None) -> Draft:
        draft = self.get(draft_id)
        if if_match is not None:
            m = ETAG_RE.match(if_match)
            if not m:
                raise InvalidInput(f"If-Match must be a draft version such as '\"{draft.version}\"'")
            if int(m.group(1)) != draft.version:
                raise PreconditionFailed(
                    f"If-Match names version {m.group(1)}, but the draft is at version {draft.version}",
                    current_version=draft.version,
                )
        return draft

    def _event(self, draft: Draft, who: Principal, action: str, *, to: DraftStatus | None = None,
               note: str | None = None, text: str | None = None, now: datetime) -> AuditEntry:  # fmt: skip
        return AuditEntry(
            draft_id=draft.id, actor=who.actor, role=who.role.value, action=action,
            from_state=draft.status.value, to_state=(to or draft.status).value, note=note,
            text_hash=text_hash(text), prompt_refs=draft.prompt_refs, at=now,
        )  # fmt: skip

    def required_approvals(self, draft: Draft) -> int:
        """The playbook's tier for the draft's severity, or the draft's own when higher (crisis mode)."""
        playbook = self.pipeline.pack.playbooks.get(draft.classification.issue_type)
        tier = playbook.approval_tier.get(draft.classification.severity, 1) if playbook else 1
        return max(tier, draft.review.required_approvals)

    # ------------------------------------------------------------ actions

    def approve(
        self, draft_id: str, who: Principal, *, variant_id: str | None = None, edited_text: str | None = None,
        note: str | None = None, override_reason: str | None = None, if_match: str | None = None,
    ) -> Draft:  # fmt: skip
        who.require(Role.reviewer)
        if (variant_id is None) == (edited_text is None):
            raise InvalidInput("send exactly one of variant_id or edited_text")
        draft = self._current(draft_id, if_match)
        ensure_transition(draft.status, DraftStatus.approved)
        now = self.clock.now()
        if variant_id is not None:
            variant = next((v for v in draft.variants if v.id == variant_id), None)
            if variant is None:
                ids = ", ".join(v.id for v in draft.variants)
                raise InvalidInput(f"the draft has no variant {variant_id!r}; its variants are {ids}")
            text, verdict = variant.text, variant.rubric
        else:
            text = (edited_text or "").strip()
            if not text:
                raise InvalidInput("edited_text is empty")
            verdict = self.pipeline.recheck(draft, text)
        failing = failing_blocking(verdict)
        if failing and not (override_reason and override_reason.strip()):
            raise OverrideRequired(
                f"the text fails blocking rubric criteria ({', '.join(failing)}); fix it, or approve with an "
                "override_reason that will be recorded",
                failing_criteria=failing,
            )
        review = draft.review.model_copy(deep=True)
        required = review.required_approvals if review.approvals else self.required_approvals(draft)
        if review.approvals:
            if any(a.actor == who.actor for a in review.approvals):
                raise Conflict("you already approved this draft; a second reviewer must confirm it")
            if review.final_text != text:
                raise Conflict("the second approval must confirm the text of the first; reject or regenerate instead")
        review.required_approvals = required
        review.approvals.append(
            Approval(actor=who.actor, role=who.role.value, at=now, variant_id=variant_id,
                     edited=edited_text is not None, note=note, override_reason=override_reason)  # fmt: skip
        )
        review.final_text, review.final_variant_id, review.final_rubric = text, variant_id, verdict
        done = len(review.approvals) >= required
        status = DraftStatus.approved if done else DraftStatus.pending_review
        events = []
        if edited_text is not None and not draft.review.approvals:
            events.append(self._event(draft, who, "edited", note=note, text=text, now=now))
        events.append(self._event(draft, who, "checked", note=f"rubric passed={verdict.passed} score={verdict.score}",
                                  text=text, now=now))  # fmt: skip
        if failing:
            events.append(self._event(draft, who, "override", note=f"{', '.join(failing)}: {override_reason}",
                                      text=text, now=now))  # fmt: skip
        action = "approved" if done else f"approval_{len(review.approvals)}_of_{required}"
        events.append(self._event(draft, who, action, to=status, note=note, text=text, now=now))
        new = draft.model_copy(update={"status": status, "version": draft.version + 1, "review": review})
        self.store.save(new, expected_version=draft.version, events=events, now=now)
        if done:
            self.pipeline.learn(new)
        return new

    def reject(self, draft_id: str, who: Principal, *, reason: str, if_match: str | None = None) -> Draft:
        who.require(Role.reviewer)
        if not reason or not reason.strip():
            raise InvalidInput("a rejection needs a reason")
        draft = self._current(draft_id, if_match)
        ensure_transition(draft.status, DraftStatus.rejected)
        now = self.clock.now()
        review = draft.review.model_copy(update={"rejected_reason": reason.strip()})
        new = draft.model_copy(update={"status": DraftStatus.rejected, "version": draft.version + 1, "review": review})
        event = self._event(draft, who, "rejected", to=DraftStatus.rejected, note=reason.strip(), now=now)
        self.store.save(new, expected_version=draft.version, events=[event], now=now)
        return new

    def regenerate(self, draft_id: str, who: Principal, *, feedback: str | None, if_match: str | None = None) -> Draft:
        """Draft the same complaint again (different wording, the feedback recorded) and supersede the old one."""
        who.require(Role.reviewer)
        draft = self._current(draft_id, if_match)
        if draft.kind is not DraftKind.reply:
            raise InvalidInput(f"only replies are regenerated; a {draft.kind.value} draft is prepared again from its incident")
        ensure_transition(draft.status, DraftStatus.superseded)
        now = self.clock.now()
        fresh = self.pipeline.make_draft(
            draft.complaint, self.pipeline.context_of(draft), variants=len(draft.variants) or 3, salt=draft.review.generation + 1,
        )  # fmt: skip
        fresh.review.supersedes, fresh.review.regenerate_feedback = draft.id, feedback
        fresh.review.generation = draft.review.generation + 1
        if draft.incident_id:  # still linked, still in crisis mode: the same tier and deadline
            fresh.review.required_approvals = draft.review.required_approvals
            fresh = fresh.model_copy(update={"incident_id": draft.incident_id, "deadline": min(fresh.deadline, draft.deadline)})
        old = draft.model_copy(update={
            "status": DraftStatus.superseded, "version": draft.version + 1,
            "review": draft.review.model_copy(update={"superseded_by": fresh.id, "regenerate_feedback": feedback}),
        })  # fmt: skip
        events = [
            self._event(draft, who, "regenerated", to=DraftStatus.superseded, note=feedback, now=now),
            *self.pipeline.creation_events(fresh, actor=who.actor, role=who.role.value, note=f"regenerated from {draft.id}"),
        ]
        self.store.replace(old, expected_version=draft.version, new=fresh, events=events, now=now)
        return fresh

    def mark_sent(self, draft_id: str, who: Principal, *, external_id: str | None = None) -> Draft:
        who.require(Role.reviewer)
        draft = self.get(draft_id)
        ensure_transition(draft.status, DraftStatus.sent)
        now = self.clock.now()
        review = draft.review.model_copy(update={"sent_at": now, "external_id": external_id})
        new = draft.model_copy(update={"status": DraftStatus.sent, "version": draft.version + 1, "review": review})
        event = self._event(draft, who, "sent", to=DraftStatus.sent, note=external_id, text=review.final_text, now=now)
        self.store.save(new, expected_version=draft.version, events=[event], now=now)
        return new
