"""``tenang eval crisis``: a replayable stream of complaints with injected incidents, through the spike
detector (detection delay, false alerts), the linker (precision and recall of links), and the real
service (links with the pack's classifier, follow-up coverage, the post-incident reports).

The background is the pack's own labelled example complaints (both languages, every issue type),
arriving 2 to 6 an hour with a daily rhythm. Incidents are bursts of complaints written here
(evals/datasets/crisis/incidents.v1.json), of different sizes and speeds: an outage in Indonesian on X,
a medium one in English, a slow billing problem by email, a rumour that spreads; each mixes languages and
wordings. Everything is drawn from one seed, so a run can be replayed exactly; a different seed gives an
independent stream, and ``holdout`` draws the incidents' words from a pool never used for tuning.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from service.incidents.linking import Linker, backfill
from service.incidents.spikes import Alert, SignalEvent, SpikeDetector, SpikeSettings
from service.knowledge.pack import Pack
from service.ports import Embedder

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, 00:00 UTC


@dataclass(frozen=True)
class IncidentKind:
    name: str
    issue_type: str
    language: str
    channel: str
    texts: tuple[str, ...]
    rate_per_hour: tuple[float, float]  # at the start and at the end (a ramp when they differ)
    hours: float
    title: str = ""  # what a comms lead would call it, and the public note they would write (in English)
    note: str = ""


INCIDENT_TEXTS = Path(__file__).resolve().parent / "datasets" / "crisis" / "incidents.v1.json"


def _k(name: str, issue: str, lang: str, channel: str, rate: tuple[float, float], hours: float, title: str, note: str) -> IncidentKind:
    return IncidentKind(name, issue, lang, channel, (), rate, hours, title, note)


KINDS = (
    _k("outage_id_x", "service_outage", "id", "twitter", (60.0, 60.0), 1.5, "checkout outage",
       "Payments in the Kedai Nusa app are failing for some customers; our engineers are on it."),
    _k("outage_en_medium", "service_outage", "en", "twitter", (20.0, 20.0), 2.0, "payment crashes in the app",
       "The Kedai Nusa app is crashing at the payment step for some customers; we're working on a fix."),
    _k("billing_email_slow", "billing_error", "en", "email", (3.0, 3.0), 10.0, "duplicate card charges",
       "Some customers were charged twice for one order; every duplicate charge will be refunded."),
    _k("rumour_id", "misinformation", "id", "tiktok", (5.0, 40.0), 2.0, "fake egg rumour",
       "The video claiming Kedai Nusa sells fake eggs is false; our eggs come from licensed farms."),
)


def incident_texts(kind: str, pool: str) -> tuple[str, ...]:
    """The complaints of one kind of incident: the ``dev`` pool for tuning, ``holdout`` for the check."""
    return tuple(json.loads(INCIDENT_TEXTS.read_text(encoding="utf-8"))[kind][pool])


TAILS = ("", " tolong", " please", " pls fix", " !!", " kak", " udah 3x", " urgent", " #kedainusa", " 😡", " ...")


@dataclass
class Scenario:
    events: list[SignalEvent]
    incidents: list[dict[str, Any]]  # kind, start, end, event ids
    weeks: float


def _hour_rate(hour: float) -> float:
    """Complaints an hour across all types: 2 at night, up to 6 in the afternoon."""
    return 2.0 + 4.0 * max(0.0, math.sin(math.pi * (hour - 7) / 16)) if 7 <= hour <= 23 else 2.0


def _poisson_times(rng: random.Random, start: datetime, hours: float, rate: Callable[[float], float]) -> list[datetime]:
    """Arrival times of an inhomogeneous Poisson process (thinning), rate in events per hour."""
    peak = max(rate(h / 10) for h in range(int(hours * 10) + 1))
    out, t = [], 0.0
    while True:
        t += rng.expovariate(peak)
        if t >= hours:
            return out
        if rng.random() < rate(t) / peak:
            out.append(start + timedelta(hours=t))


def build_scenario(pack: Pack, *, weeks: float, seed: int, incidents_per_week: int = 4, holdout: bool = False) -> Scenario:
    """Background and incidents from one seed; ``holdout``: the incidents say it in the held-out words."""
    rng = random.Random(seed)
    pool = "holdout" if holdout else "dev"
    examples = [(t.id, ex.language.value, ex.text) for t in pack.taxonomy.issue_types if t.is_complaint for ex in t.examples]
    hours = weeks * 7 * 24
    events: list[SignalEvent] = []
    for i, at in enumerate(_poisson_times(rng, START, hours, lambda h: _hour_rate((h + START.hour) % 24))):
        issue, lang, text = rng.choice(examples)
        events.append(SignalEvent(at=at, issue_type=issue, text=text, id=f"bg-{i}", language=lang,
                                  channel=rng.choice(["twitter", "instagram", "chat", "email"])))  # fmt: skip
    incidents = []
    n_incidents = max(1, round(incidents_per_week * weeks))
    slots = sorted(rng.sample(range(int(hours // 12) - 1), n_incidents))  # at most one incident per 12 hours
    for k, slot in enumerate(slots):
        kind = KINDS[k % len(KINDS)]
        start = START + timedelta(hours=slot * 12 + rng.uniform(0, 2))
        a, b = kind.rate_per_hour

        def rate(h: float, a: float = a, b: float = b, span: float = kind.hours) -> float:
            return a + (b - a) * min(1.0, h / span)

        ids = []
        texts = incident_texts(kind.name, pool)
        for j, at in enumerate(_poisson_times(rng, start, kind.hours, rate)):
            eid = f"inc{k}-{j}"
            ids.append(eid)
            text = rng.choice(texts) + rng.choice(TAILS)
            events.append(SignalEvent(at=at, issue_type=kind.issue_type, text=text, id=eid, language=kind.language,
                                      channel=kind.channel))  # fmt: skip
        incidents.append({"kind": kind.name, "issue_type": kind.issue_type, "start": start, "title": kind.title, "note": kind.note, "texts": texts,
                          "end": start + timedelta(hours=kind.hours), "peak_per_hour": max(a, b), "event_ids": set(ids),
                          "rate": (a, b, kind.hours)})  # fmt: skip
    events.sort(key=lambda e: (e.at, e.id))
    return Scenario(events=events, incidents=incidents, weeks=weeks)


def with_embeddings(scenario: Scenario, embedder: Embedder) -> Scenario:
    texts = list(dict.fromkeys(e.text for e in scenario.events))
    vectors = dict(zip(texts, embedder.embed(texts), strict=True))
    return replace(scenario, events=[replace(e, embedding=tuple(vectors[e.text])) for e in scenario.events])


def replay(scenario: Scenario, settings: SpikeSettings | None = None) -> list[Alert]:
    detector = SpikeDetector(settings)
    return [a for e in scenario.events for a in detector.observe(e)]


@dataclass
class CrisisResult:
    summary: dict[str, Any]
    per_incident: list[dict[str, Any]] = field(default_factory=list)
    false_alerts: list[Alert] = field(default_factory=list)


def incident_of(scenario: Scenario) -> dict[str, int]:
    """Event id -> the index of the injected incident it belongs to (background events are absent)."""
    return {eid: k for k, inc in enumerate(scenario.incidents) for eid in inc["event_ids"]}


def alert_owner(truth: dict[str, int], a: Alert) -> int | None:
    """The injected incident an alert is about: the one that has at least half of its complaints."""
    owners = [truth.get(i) for i in a.event_ids]
    if not owners:
        return None
    best = max(set(owners), key=lambda k: (owners.count(k), k is not None))
    return best if best is not None and owners.count(best) * 2 >= len(owners) else None


def score(scenario: Scenario, alerts: list[Alert], *, big_per_hour: float = 20.0, within: timedelta = timedelta(minutes=15)) -> CrisisResult:
    """An alert belongs to an incident when at least half the complaints in its window are that
    incident's; any other alert is a false alert."""
    truth = incident_of(scenario)
    owner = [alert_owner(truth, a) for a in alerts]
    per = []
    at = {e.id: e.at for e in scenario.events}
    for k, inc in enumerate(scenario.incidents):
        first = min((a.detected_at for a, o in zip(alerts, owner, strict=True) if o == k), default=None)
        delay = (first - inc["start"]).total_seconds() / 60 if first else None
        # when the incident reaches big_per_hour (its start, unless it ramps up to it)
        a, b, span = inc["rate"]
        big_after = 0.0 if a >= big_per_hour or b <= a else min(1.0, (big_per_hour - a) / (b - a)) * span * 60
        big_from = inc["start"] + timedelta(minutes=big_after)
        # complaints in the 15 minutes after it reaches big_per_hour: a Poisson stream of 20 an hour brings
        # two or fewer in one incident of eight, and one complaint is no evidence of anything
        early = sum(1 for i in inc["event_ids"] if big_from <= at[i] <= big_from + within)
        per.append({"kind": inc["kind"], "issue_type": inc["issue_type"], "start": inc["start"].isoformat(),
                    "complaints": len(inc["event_ids"]), "peak_per_hour": inc["peak_per_hour"],
                    "detected": first is not None, "delay_minutes": round(delay, 1) if delay is not None else None,
                    "minutes_to_big_rate": round(big_after, 1), "complaints_in_first_15_min": early,
                    "delay_after_big_rate": round(max(0.0, delay - big_after), 1) if delay is not None else None})  # fmt: skip
    big = [p for p in per if p["peak_per_hour"] >= big_per_hour]
    delays = [p["delay_minutes"] for p in big if p["delay_minutes"] is not None]
    after = [p["delay_after_big_rate"] for p in big if p["delay_after_big_rate"] is not None]
    false = [a for a, o in zip(alerts, owner, strict=True) if o is None]
    limit = within.total_seconds() / 60
    summary = {
        "events": len(scenario.events), "weeks": scenario.weeks, "incidents": len(per), "alerts": len(alerts),
        "detected": sum(p["detected"] for p in per),
        "big_incidents": len(big), "big_detected_within_15_min": sum(1 for d in delays if d <= limit),
        "delay_minutes_median_big": round(statistics.median(delays), 1) if delays else None,
        "delay_minutes_worst_big": max(delays) if len(delays) == len(big) and delays else None,
        "big_detected_within_15_min_of_big_rate": sum(1 for d in after if d <= limit),
        "delay_after_big_rate_worst": max(after) if len(after) == len(big) and after else None,
        "big_with_3_in_first_15_min": sum(1 for p in big if p["complaints_in_first_15_min"] >= 3),
        "of_those_detected_within_15_min": sum(1 for p in big if p["complaints_in_first_15_min"] >= 3
                                               and p["delay_after_big_rate"] is not None and p["delay_after_big_rate"] <= limit),
        "false_alerts": len(false), "false_alerts_per_week": round(len(false) / scenario.weeks, 2),
    }  # fmt: skip
    return CrisisResult(summary=summary, per_incident=per, false_alerts=false)


def simulate_linking(
    scenario: Scenario, alerts: list[Alert], *, threshold: float, embedder: Embedder | None = None, lookback: timedelta = timedelta(hours=24),
    references: int = 60, react: timedelta = timedelta(minutes=10), resolve_after: timedelta = timedelta(hours=1),
    any_type_threshold: float | None = None,
) -> dict[str, Any]:
    """A comms lead opens an incident from every alert that no open incident already covers, ``react``
    after it (with the issue types of most of the alert's complaints, those complaints, and with an embedder the
    title and public note the lead would write, as references),
    and resolves it ``resolve_after`` the injected incident ends (a false alert's incident: 2 hours after
    it opened). Every complaint meanwhile goes through the linker, and the earlier ones are backfilled
    when the incident opens, as the service does. Scored against the injected incidents: precision and
    recall of the links, recall over the complaints of incidents that were opened."""
    linker = Linker(threshold, references, any_type_threshold)
    by_id = {e.id: e for e in scenario.events}
    truth = incident_of(scenario)
    pending = sorted(alerts, key=lambda a: a.detected_at)
    opened: dict[str, dict[str, Any]] = {}  # incident id -> owner (injected index or None), close time
    links: dict[str, str] = {}  # event id -> incident id
    history: list[SignalEvent] = []

    def open_due(now: datetime) -> None:
        while pending and pending[0].detected_at + react <= now:
            a = pending.pop(0)
            tip = by_id.get(a.event_ids[-1]) if a.event_ids else None
            if tip is not None and tip.id in links:  # already covered by an open incident
                continue
            types = [by_id[i].issue_type for i in a.event_ids if i in by_id]
            issue_types = {t for t in set(types) if types.count(t) * 2 >= len(types)} or {a.issue_type}
            ident = f"I{len(opened)}"
            k = alert_owner(truth, a)
            close = (scenario.incidents[k]["end"] + resolve_after) if k is not None else a.detected_at + react + timedelta(hours=2)
            opened[ident] = {"owner": k, "close": close}
            refs = [by_id[i].embedding for i in a.event_ids if i in by_id and by_id[i].embedding]
            if embedder is not None and k is not None:
                inc = scenario.incidents[k]
                refs += embedder.embed([inc["title"], inc["note"]])
            linker.open(ident, issue_types, refs)
            since = a.detected_at + react - lookback
            earlier = [(e.id, e.issue_type, e.embedding or ()) for e in history if e.at >= since and e.id not in links]
            for eid, _ in backfill(linker, ident, earlier):
                links[eid] = ident

    for e in scenario.events:
        open_due(e.at)
        for ident, info in opened.items():
            if info["close"] <= e.at:
                linker.close(ident)
        found = linker.link(e.issue_type, e.embedding or ())
        if found:
            links[e.id] = found[0]
        history.append(e)
    correct = sum(1 for eid, ident in links.items() if truth.get(eid) is not None and opened[ident]["owner"] == truth[eid])
    covered = {info["owner"] for info in opened.values() if info["owner"] is not None}
    relevant = sum(len(scenario.incidents[k]["event_ids"]) for k in covered)
    p = correct / len(links) if links else 0.0
    r = correct / relevant if relevant else 0.0
    return {"threshold": threshold, "incidents_opened": len(opened), "links": len(links), "link_precision": round(p, 4),
            "link_recall": round(r, 4), "link_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}  # fmt: skip


class EventClock:
    """The service's clock during a replay: the event time of the complaint being handled."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def service_replay(
    services: Any, clock: EventClock, scenario: Scenario, k: int, *, before: timedelta = timedelta(hours=12),
    react: timedelta = timedelta(minutes=10), resolve_after: timedelta = timedelta(hours=1),
) -> dict[str, Any]:
    """Injected incident ``k`` with the background around it, through the real service: every complaint is
    drafted (classified by the pack's model, linked by the service) and its reply approved as drafted (by
    two reviewers where the tier says so); a comms lead opens the incident from its first alert ``react``
    later (and attaches the later alerts about it), and the incident
    is resolved ``resolve_after`` its end, which prepares the follow-ups. Scores the links against the
    truth and the follow-up coverage (linked threads that got a reply, and then a follow-up draft)."""
    from service.auth.keys import Principal, Role
    from service.incidents.models import IncidentStatus
    from service.models import Channel, Complaint, DraftStatus
    from service.drafting.context import DraftContext

    inc = scenario.incidents[k]
    start, end = inc["start"] - before, inc["end"] + resolve_after
    events = [e for e in scenario.events if start <= e.at <= end]
    crisis, review = services.crisis, services.review
    lead = Principal(key_id="replay", name="comms-lead", role=Role.reviewer)
    second = Principal(key_id="replay", name="second-reviewer", role=Role.reviewer)
    texts = inc["texts"]
    incident = None
    opened_from = None
    draft_of: dict[str, str] = {}
    for e in events:
        clock.at = e.at
        # the lead opens the incident from the first alert that is about it (samples mostly its complaints),
        # and attaches the later ones about it that no incident has (the same story in the other language)
        ours = [a for a in crisis.alerts(since=start) if a.detected_at + react <= e.at and a.incident_id is None
                and sum(any(x.startswith(t) for t in texts) for x in a.samples) * 2 >= len(a.samples)]  # fmt: skip
        for a in sorted(ours, key=lambda a: a.detected_at):
            if incident is None:
                opened_from = a
                incident = crisis.create(lead, title=inc["title"], issue_types=None, status=IncidentStatus.investigating,
                                         at_fault=inc["kind"] != "rumour_id", public_note=inc["note"],
                                         holding_statement=None, alert_id=a.id)  # fmt: skip
            else:
                incident = crisis.attach_alert(incident.id, lead, a.id)
        complaint = Complaint(text=e.text, channel=Channel(e.channel), public=e.channel in ("twitter", "instagram", "tiktok"))
        d = crisis.draft(complaint, DraftContext(), variants=1, actor="agent", role="agent", at=e.at)
        draft_of[e.id] = d.id
        fails = not d.variants[0].rubric.passed
        for who in (lead, second)[: review.required_approvals(d)]:  # every reply approved as drafted
            d = review.approve(d.id, who, variant_id="v1", override_reason="replay: approved as drafted" if fails else None)
    clock.at = end
    resolved = crisis.update(incident.id, lead, changes={"status": IncidentStatus.resolved}) if incident else None
    truth = {draft_of[i] for i in inc["event_ids"] if i in draft_of}
    drafts = services.store.incident_drafts(incident.id) if incident else []
    replies = [d for d in drafts if d.kind.value == "reply"]
    linked = {d.id for d in replies}
    replied = {d.id for d in replies if d.status in (DraftStatus.approved, DraftStatus.sent)}
    followed = {d.follows for d in drafts if d.kind.value == "follow_up"}
    tp = len(linked & truth)
    return {
        "kind": inc["kind"], "complaints": len(inc["event_ids"]), "background": len(events) - len(truth),
        "incident_opened": incident is not None,
        "alert_minutes_after_start": round((opened_from.detected_at - inc["start"]).total_seconds() / 60, 1) if opened_from else None,
        "linked": len(linked), "true_links": tp, "link_precision": round(tp / len(linked), 4) if linked else None,
        "link_recall": round(tp / len(truth), 4) if truth else None,
        "threads_replied": len(replied), "threads_followed_up": len(followed & replied),
        "follow_up_coverage": round(len(followed & replied) / len(replied), 4) if replied else None,
        "incident_id": resolved.id if resolved else None,
    }  # fmt: skip
