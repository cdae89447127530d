"""Follow-up and recovery texts from the crisis file, and the commitments ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.config import PROJECT_ROOT
from service.incidents.followups import commitments, follow_up_texts, ledger, recovery_texts
from service.incidents.models import Incident, IncidentStatus, load_crisis
from service.models import (
    Approval, Cause, Channel, Classification, Complaint, Draft, DraftKind, DraftStatus, Language, Review, Sentiment,
    Severity,
)  # fmt: skip

CRISIS = load_crisis(PROJECT_ROOT / "knowledge" / "crisis.yaml")
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def incident(**kw: object) -> Incident:
    base = {"id": "i1", "title": "Checkout outage", "issue_types": ["service_outage"], "status": IncidentStatus.resolved,
            "created_at": T0, "updated_at": T0}  # fmt: skip
    return Incident.model_validate({**base, **kw})


def test_a_follow_up_says_the_news_in_the_threads_language_and_apologises_only_when_at_fault() -> None:
    inc = incident(at_fault=True, public_note="Payments in the app work again.")
    en = follow_up_texts(CRISIS, inc, Language.en, Channel.twitter)
    assert all("checkout outage: payments in the app work again." in t and "We're sorry" in t for t in en)
    idn = follow_up_texts(CRISIS, inc, Language.id, Channel.email)
    # the English note is not pasted into an Indonesian thread: the status's own news is said instead
    assert all("Payments" not in t and "sudah teratasi" in t for t in idn)
    assert all("mohon maaf" in t for t in idn)
    calm = follow_up_texts(CRISIS, incident(status=IncidentStatus.identified), Language.en, Channel.chat)
    assert all("found the cause" in t and "sorry" not in t.lower() for t in calm)


def test_a_recovery_post_fits_its_channel_and_says_the_duration_only_from_an_hour() -> None:
    inc = incident(at_fault=True, public_note="Payments in the app work again; failed payments were not charged.",
                   resolved_at=T0 + timedelta(hours=3))  # fmt: skip
    changes = ["We added a second payment provider", "payment updates now roll out in stages"]
    full = recovery_texts(CRISIS, inc, Language.en, changes, 2000, T0)
    assert full[0].startswith("On 2 March 2026,") and "about 3 hours" in full[0]
    assert "we added a second payment provider; payment updates now roll out in stages" in full[0]
    short = recovery_texts(CRISIS, inc, Language.en, changes, 280, T0)
    assert all(len(t) <= 280 for t in short) and all("our fault" in t and "second payment provider" in t for t in short)
    quick = incident(resolved_at=T0 + timedelta(minutes=20))
    assert all("lasted" not in t for t in recovery_texts(CRISIS, quick, Language.en, [], 2000, T0))


def draft(i: int, kind: DraftKind, status: DraftStatus, text: str, follows: str | None = None) -> Draft:
    c = Classification(issue_type="service_outage", confidence=0.9, is_complaint=True, severity=Severity.high,
                       sentiment=Sentiment.negative, language=Language.en, cause=Cause.our_error, at_fault=True, signals=[])  # fmt: skip
    review = Review(final_text=text, approvals=[Approval(actor="a", role="reviewer", at=T0)] if status is DraftStatus.approved else [])
    return Draft(id=f"d{i}", status=status, complaint=Complaint(text="app down", channel=Channel.twitter, public=True),
                 redacted_text="app down", context={}, classification=c, sources=[], variants=[], deadline=T0,
                 prompt_refs={}, playbook="service_outage@v1", created_at=T0, kind=kind, incident_id="i1",
                 follows=follows, review=review)  # fmt: skip


def test_commitments_are_found_and_kept_by_an_approved_follow_up() -> None:
    assert commitments(CRISIS, "Sorry about this. We'll update you here as soon as we know more.", Language.en) == [
        "We'll update you here as soon as we know more."
    ]
    assert commitments(CRISIS, "Mohon maaf. Kami kabari Kakak lagi di sini begitu ada perkembangan.", Language.id)
    assert commitments(CRISIS, "Thanks for your patience.", Language.en) == []
    drafts = [
        draft(1, DraftKind.reply, DraftStatus.approved, "Sorry. We'll let you know when it's fixed."),
        draft(2, DraftKind.reply, DraftStatus.approved, "Sorry. We'll keep you posted."),
        draft(3, DraftKind.reply, DraftStatus.pending_review, "We'll update you soon."),  # not sent: no promise made
        draft(4, DraftKind.follow_up, DraftStatus.approved, "It's fixed now.", follows="d1"),
        draft(5, DraftKind.follow_up, DraftStatus.pending_review, "It's fixed now.", follows="d2"),  # not yet approved
    ]
    rows = ledger(CRISIS, drafts)
    assert [(r["draft_id"], r["kept"], r["kept_by"]) for r in rows] == [("d1", True, "d4"), ("d2", False, None)]


def test_each_language_gets_the_incidents_title_in_that_language() -> None:
    inc = incident(title="checkout outage", titles={"id": "gangguan pembayaran"})
    assert all("kendala gangguan pembayaran" in t for t in follow_up_texts(CRISIS, inc, Language.id, Channel.twitter))
    assert all("the checkout outage" in t for t in follow_up_texts(CRISIS, inc, Language.en, Channel.twitter))
