"""``tenang eval crisis``: a replayable stream of complaints with injected incidents, through the spike
detector, scored for detection delay and false alerts.

The background is the pack's own labelled example complaints (both languages, every issue type),
arriving 2 to 6 an hour with a daily rhythm. Incidents are bursts of near-identical complaints written
here, of different sizes and speeds: an outage in Indonesian on X, a slow billing problem by email, a
rumour that spreads. Everything is drawn from one seed, so a run can be replayed exactly; a different
seed gives an independent stream.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

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


KINDS = (
    IncidentKind("outage_id_x", "service_outage", "id", "twitter", (
        "aplikasi Kedai Nusa error terus, gak bisa checkout dari tadi", "checkout gagal mulu @kedainusa, ini kenapa sih",
        "app kedai nusa down ya? bayar gak bisa sama sekali", "dari tadi mau bayar di Kedai Nusa gagal terus, error",
        "kedai nusa error lagi?? checkout muter2 doang", "gak bisa bayar pesanan di aplikasi kedai nusa, tolong dong",
    ), (60.0, 60.0), 1.5),
    IncidentKind("outage_en_medium", "service_outage", "en", "twitter", (
        "@kedainusa the app keeps crashing when I try to pay", "is Kedai Nusa down? checkout won't load",
        "can't check out on the Kedai Nusa app, payment page just spins", "Kedai Nusa app crashing at payment again",
        "payment fails every time on kedai nusa app", "anyone else unable to pay on Kedai Nusa right now?",
    ), (20.0, 20.0), 2.0),
    IncidentKind("billing_email_slow", "billing_error", "en", "email", (
        "I was charged twice for my Kedai Nusa order yesterday, please refund the duplicate",
        "Two identical charges from Kedai Nusa appeared on my card for one order",
        "Your checkout charged my card twice for the same groceries", "Double charge on my statement from Kedai Nusa",
    ), (3.0, 3.0), 10.0),
    IncidentKind("rumour_id", "misinformation", "id", "tiktok", (
        "katanya telur di Kedai Nusa telur palsu ya? viral di tiktok", "beneran Kedai Nusa jual telur palsu? serem",
        "video telur palsu kedai nusa udah ditonton jutaan orang, klarifikasi dong",
        "jadi takut beli telur di kedai nusa, katanya palsu", "telur plastik dari kedai nusa?? ini hoax atau bukan",
    ), (5.0, 40.0), 2.0),
)
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


def build_scenario(pack: Pack, *, weeks: float, seed: int, incidents_per_week: int = 4) -> Scenario:
    rng = random.Random(seed)
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
        for j, at in enumerate(_poisson_times(rng, start, kind.hours, rate)):
            eid = f"inc{k}-{j}"
            ids.append(eid)
            text = rng.choice(kind.texts) + rng.choice(TAILS)
            events.append(SignalEvent(at=at, issue_type=kind.issue_type, text=text, id=eid, language=kind.language,
                                      channel=kind.channel))  # fmt: skip
        incidents.append({"kind": kind.name, "issue_type": kind.issue_type, "start": start,
                          "end": start + timedelta(hours=kind.hours), "peak_per_hour": max(a, b), "event_ids": set(ids)})  # fmt: skip
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


def score(scenario: Scenario, alerts: list[Alert], *, big_per_hour: float = 20.0, within: timedelta = timedelta(minutes=15)) -> CrisisResult:
    """An alert belongs to an incident when at least half the complaints in its window are that
    incident's; any other alert is a false alert."""
    owner: list[int | None] = []
    for a in alerts:
        best = None
        for k, inc in enumerate(scenario.incidents):
            share = sum(1 for i in a.event_ids if i in inc["event_ids"]) / max(1, len(a.event_ids))
            if share >= 0.5:
                best = k
        owner.append(best)
    per = []
    for k, inc in enumerate(scenario.incidents):
        first = min((a.detected_at for a, o in zip(alerts, owner, strict=True) if o == k), default=None)
        delay = (first - inc["start"]).total_seconds() / 60 if first else None
        per.append({"kind": inc["kind"], "issue_type": inc["issue_type"], "start": inc["start"].isoformat(),
                    "complaints": len(inc["event_ids"]), "peak_per_hour": inc["peak_per_hour"],
                    "detected": first is not None, "delay_minutes": round(delay, 1) if delay is not None else None})  # fmt: skip
    big = [p for p in per if p["peak_per_hour"] >= big_per_hour]
    delays = [p["delay_minutes"] for p in big if p["delay_minutes"] is not None]
    false = [a for a, o in zip(alerts, owner, strict=True) if o is None]
    summary = {
        "events": len(scenario.events), "weeks": scenario.weeks, "incidents": len(per), "alerts": len(alerts),
        "detected": sum(p["detected"] for p in per),
        "big_incidents": len(big), "big_detected_within_15_min": sum(1 for d in delays if d <= within.total_seconds() / 60),
        "delay_minutes_median_big": round(statistics.median(delays), 1) if delays else None,
        "delay_minutes_worst_big": max(delays) if len(delays) == len(big) and delays else None,
        "false_alerts": len(false), "false_alerts_per_week": round(len(false) / scenario.weeks, 2),
    }  # fmt: skip
    return CrisisResult(summary=summary, per_incident=per, false_alerts=false)
