"""Follow-up drafts, recovery posts and the commitments ledger, from the crisis file's texts.

A follow-up continues a thread that received a reply: same complaint, channel and language, the
incident's new status and public note, checked by the same rubric and held for the same approval (the
crisis tier on public channels). A recovery post says what happened and what changed, from the incident
record alone: never a cause, a number or a promise the record does not hold.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from service import language as lang_detect
from service.drafting.compose import _lower_first, _you
from service.drafting.compose import _title as compose_title
from service.drafting.context import DraftContext
from service.drafting.context import Incident as IncidentContext
from service.drafting.pipeline import DraftingPipeline
from service.incidents.models import CrisisFile, Incident, IncidentStatus
from service.models import (
    Cause, Channel, Classification, Complaint, Draft, DraftKind, DraftStatus, Language, Review, Sentiment, Severity,
    Variant,
)  # fmt: skip

GENERATOR = "crisis"
REPLIED = (DraftStatus.approved, DraftStatus.sent)  # a draft whose thread received the reply


def _sentences(parts: list[str], fill: dict[str, str]) -> str:
    out = []
    for p in parts:
        text = p
        for k, v in fill.items():
            text = text.replace("{" + k + "}", v)
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            out.append(text if text[-1] in ".!?" else text + ".")
    return " ".join(out)


def _title(incident: Incident, lang: Language) -> str:
    return compose_title(incident.titles.get(lang) or incident.title)


def _note(incident: Incident, lang: Language) -> str:
    note = (incident.public_note or "").strip()
    return note if note and lang_detect.detect(note, default=lang) == lang else ""


def context_with(draft_context: dict | DraftContext, incident: Incident) -> DraftContext:  # type: ignore[type-arg]
    """The context with the incident as drafts see it (title, titles, status, fault, public note)."""
    ctx = DraftContext.model_validate(draft_context)
    return ctx.model_copy(update={"incident": IncidentContext(
        id=incident.id, title=incident.title, titles=incident.titles, status=incident.status,
        at_fault=incident.at_fault, public_note=incident.public_note,
    )})  # fmt: skip


def follow_up_texts(crisis: CrisisFile, incident: Incident, lang: Language, channel: Channel) -> list[str]:
    texts = crisis.follow_up[lang]
    status = incident.status if incident.status is not IncidentStatus.investigating else IncidentStatus.identified
    sorry = texts.sorry_at_fault if incident.at_fault else texts.sorry
    news = _lower_first(_note(incident, lang)) or getattr(texts.news, status.value)
    fill = {"title": _title(incident, lang), "news": news, "sorry": sorry, "you": _you(lang, channel)}
    return [_sentences(parts, fill) for parts in getattr(texts, status.value)]


def follow_up_draft(pipeline: DraftingPipeline, crisis: CrisisFile, incident: Incident, replied: Draft, *,
                    now: datetime) -> Draft:  # fmt: skip
    """A follow-up to the thread of ``replied`` about the incident's current status, checked, not stored."""
    lang = replied.classification.language
    context = context_with(replied.context, incident)
    base = Draft(
        id=str(uuid.uuid4()), complaint=replied.complaint, redacted_text=replied.redacted_text,
        context=context.model_dump(mode="json", exclude_none=True), classification=replied.classification,
        sources=[], variants=[], deadline=now + timedelta(minutes=crisis.crisis_mode.deadline_minutes),
        prompt_refs={**replied.prompt_refs, "crisis": crisis.ref}, playbook=replied.playbook, created_at=now,
        kind=DraftKind.follow_up, incident_id=incident.id, follows=replied.id,
        review=Review(required_approvals=crisis.crisis_mode.approvals if replied.complaint.public else 1),
    )  # fmt: skip
    variants = [
        Variant(id=f"v{i + 1}", text=t, generator=GENERATOR, structure=f"follow_up_{incident.status.value}",
                rubric=pipeline.recheck(base, t))
        for i, t in enumerate(follow_up_texts(crisis, incident, lang, replied.complaint.channel))
    ]  # fmt: skip
    return base.model_copy(update={"variants": variants})


def _date(at: datetime, lang: Language) -> str:
    months = {
        Language.en: "January February March April May June July August September October November December",
        Language.id: "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember",
    }[lang].split()
    return f"{at.day} {months[at.month - 1]} {at.year}"


def recovery_texts(crisis: CrisisFile, incident: Incident, lang: Language, what_changed: list[str],
                   max_chars: int, started: datetime) -> list[str]:  # fmt: skip
    """The post in its fullest form that fits the channel, then a shorter one (the apology, the changes and
    the close are always kept; the duration and the public note go first). ``started``: the first linked
    complaint (or the incident's opening); the duration is said only from an hour up."""
    t = crisis.recovery[lang]
    fill = {"date": _date(started, lang), "title": _title(incident, lang)}
    duration = ""
    hours = round((incident.resolved_at - started).total_seconds() / 3600) if incident.resolved_at else 0
    if hours >= 1:
        fill["hours"] = t.hours[0] if hours == 1 else t.hours[1].replace("{n}", str(hours))
        duration = t.duration
    note = _note(incident, lang)
    sorry = t.sorry_at_fault if incident.at_fault else t.sorry
    changes = "; ".join(_lower_first(c.strip().rstrip(".")) for c in what_changed if c.strip())
    fill["changes"] = changes
    said = t.changes if changes else ""
    forms = [[t.opening, duration, note, sorry, said, t.close], [t.opening, note, sorry, said, t.close],
             [t.opening, duration, sorry, said, t.close], [t.opening, sorry, said, t.close], [t.opening, sorry, said]]  # fmt: skip
    texts = list(dict.fromkeys(_sentences(f, fill) for f in forms))
    fitting = [x for x in texts if len(x) <= max_chars]
    return fitting[:2] if fitting else [min(texts, key=len)]


def recovery_draft(pipeline: DraftingPipeline, crisis: CrisisFile, incident: Incident, *, channel: Channel,
                   language: Language, what_changed: list[str], now: datetime, started: datetime) -> Draft:  # fmt: skip
    """A public post about the incident, checked, not stored. Its 'complaint' is the incident itself."""
    issue = incident.issue_types[0]
    summary = f"Incident: {incident.title}. " + (incident.public_note or "")
    classification = Classification(
        issue_type=issue, confidence=1.0, is_complaint=True, severity=Severity.high, sentiment=Sentiment.neutral,
        language=language, cause=Cause.our_error if incident.at_fault else Cause.unclear, at_fault=incident.at_fault,
        signals=[],
    )  # fmt: skip
    context = context_with({}, incident)
    playbook = pipeline.pack.playbooks[issue]
    base = Draft(
        id=str(uuid.uuid4()), complaint=Complaint(text=summary.strip(), channel=channel, public=True, language=language),
        redacted_text=summary.strip(), context=context.model_dump(mode="json", exclude_none=True),
        classification=classification, sources=[], variants=[],
        deadline=now + timedelta(hours=24), prompt_refs={"crisis": crisis.ref},
        playbook=f"{playbook.issue_type}@v{playbook.version}", created_at=now, kind=DraftKind.recovery,
        incident_id=incident.id, review=Review(required_approvals=crisis.crisis_mode.approvals),
    )  # fmt: skip
    variants = [
        Variant(id=f"v{i + 1}", text=t, generator=GENERATOR, structure="recovery", rubric=pipeline.recheck(base, t))
        for i, t in enumerate(recovery_texts(crisis, incident, language, what_changed,
                                             pipeline.pack.brand.channels[channel].max_chars, started))
    ]  # fmt: skip
    return base.model_copy(update={"variants": variants})


# ---------------------------------------------------------------- commitments


def commitments(crisis: CrisisFile, text: str, lang: Language) -> list[str]:
    """The sentences of a reply that promise the customer news later."""
    pats = [re.compile(p, re.IGNORECASE) for p in crisis.commitments.get(lang, [])]
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    return [s for s in sentences if any(p.search(s) for p in pats)]


def ledger(crisis: CrisisFile, drafts: list[Draft]) -> list[dict[str, object]]:
    """Each commitment made in an approved or sent reply of the incident, and whether it was kept: a
    follow-up to that thread was approved or sent."""
    kept_by: dict[str, Draft] = {}
    for d in drafts:
        if d.kind is DraftKind.follow_up and d.follows and d.status in REPLIED:
            kept_by.setdefault(d.follows, d)
    out: list[dict[str, object]] = []
    for d in drafts:
        if d.kind is not DraftKind.reply or d.status not in REPLIED or not d.review.final_text:
            continue
        made_at = d.review.approvals[-1].at if d.review.approvals else d.created_at
        for sentence in commitments(crisis, d.review.final_text, d.classification.language):
            by = kept_by.get(d.id)
            out.append({"draft_id": d.id, "commitment": sentence, "made_at": made_at.isoformat(),
                        "kept": by is not None, "kept_by": by.id if by else None})  # fmt: skip
    return out
