"""The spike detector: quiet streams stay quiet, bursts alert with their evidence, in event time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.incidents.spikes import SignalEvent, SpikeDetector, SpikeSettings

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def background(days: int = 3) -> list[SignalEvent]:
    """Three issue types, each once an hour, staggered: a steady stream with no burst."""
    out = []
    for h in range(days * 24):
        for k, issue in enumerate(("delivery_delay", "billing_error", "refund_request")):
            out.append(SignalEvent(at=T0 + timedelta(hours=h, minutes=20 * k), issue_type=issue, text=f"{issue} {h}",
                                   id=f"bg-{h}-{k}", embedding=(1.0, float(h % 7), float(k), 0.0)))  # fmt: skip
    return out


def burst(start: datetime, n: int, every: timedelta, issue: str = "service_outage", vec=(0.0, 0.0, 0.0, 1.0)) -> list[SignalEvent]:  # type: ignore[no-untyped-def]
    return [SignalEvent(at=start + i * every, issue_type=issue, text=f"checkout fails {i}", id=f"b-{i}", embedding=vec)
            for i in range(n)]  # fmt: skip


def run(events: list[SignalEvent], settings: SpikeSettings | None = None):  # type: ignore[no-untyped-def]
    d = SpikeDetector(settings)
    return [a for e in sorted(events, key=lambda e: e.at) for a in d.observe(e)]


def test_a_steady_stream_raises_nothing() -> None:
    assert run(background()) == []


def test_a_burst_of_one_issue_type_alerts_with_its_evidence_at_the_tipping_event() -> None:
    start = T0 + timedelta(days=2, hours=10, minutes=3)
    # no embeddings: the issue-type test alone
    events = background() + [replace(e, embedding=None) for e in burst(start, 8, timedelta(minutes=2))]
    alerts = run(events)
    assert len(alerts) == 1  # the rest of the burst falls in the cooldown
    a = alerts[0]
    assert a.issue_type == "service_outage" and a.topic is None
    assert a.count == 4 and a.detected_at == start + 3 * timedelta(minutes=2)  # the 4th complaint tips it
    assert a.window_start == a.detected_at - timedelta(minutes=15)
    assert a.baseline < 0.5 and a.p_value < 1e-4
    assert a.samples == [f"checkout fails {i}" for i in range(4)] and a.event_ids == [f"b-{i}" for i in range(4)]


def test_near_identical_complaints_across_issue_types_alert_as_a_topic() -> None:
    start = T0 + timedelta(days=2, hours=10, minutes=3)
    issues = ["delivery_delay", "billing_error", "refund_request", "delivery_delay", "billing_error"]
    spread = [SignalEvent(at=start + timedelta(minutes=2 * i), issue_type=issue, text=f"eggs are fake {i}", id=f"t-{i}",
                          embedding=(0.0, 0.0, 0.0, 1.0)) for i, issue in enumerate(issues)]  # fmt: skip
    alerts = run(background() + spread)
    assert [a.topic for a in alerts] == ["eggs are fake 2"]  # the third close complaint tips it
    assert alerts[0].count == 3 and set(alerts[0].event_ids) == {"t-0", "t-1", "t-2"}


def test_a_burst_raises_one_alert_and_repeats_of_one_text_count_once() -> None:
    start = T0 + timedelta(days=2, hours=10, minutes=3)
    alerts = run(background() + burst(start, 8, timedelta(minutes=2)))
    # two near-identical complaints of a quiet issue type tip it; not again as an issue-type alert
    assert [(a.topic, a.count) for a in alerts] == [("checkout fails 1", 2)]
    same = [replace(e, text="checkout fails") for e in burst(start, 8, timedelta(minutes=2))]
    assert run(background() + same) == []  # one text eight times is one voice


def test_the_same_stream_replayed_gives_the_same_alerts_and_order_is_enforced() -> None:
    events = background() + burst(T0 + timedelta(days=2, hours=10), 6, timedelta(minutes=1))
    assert run(events) == run(list(reversed(events)))  # run() sorts: event time, not arrival order, decides
    d = SpikeDetector()
    d.observe(events[5])
    with pytest.raises(ValueError, match="event-time order"):
        d.observe(events[0])


def test_a_slow_trickle_within_the_normal_rate_is_not_a_spike() -> None:
    # the outage type has a history of about 2 an hour; 4 in 15 minutes is then unremarkable
    history = burst(T0, 2 * 24 * 2, timedelta(minutes=30), vec=(0.0, 1.0, 0.0, 0.0))
    late = burst(T0 + timedelta(days=2, hours=1), 4, timedelta(minutes=4), vec=(0.0, 1.0, 0.0, 0.0))
    late = [SignalEvent(at=e.at, issue_type=e.issue_type, text=e.text, id=f"late-{i}", embedding=None) for i, e in enumerate(late)]
    assert run(history + late, SpikeSettings(topic_min_count=1000)) == []


def test_one_burst_seen_through_two_issue_types_raises_one_alert() -> None:
    # Four outage complaints tip the issue-type alert (the fourth worded differently). A billing complaint
    # worded like the first three then tips the topic test over mostly the same complaints: that is the
    # same burst, and it raises no second alert.
    start = T0 + timedelta(days=2, hours=10, minutes=3)
    up, down = (0.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.0, -1.0)
    split = [SignalEvent(at=start + timedelta(minutes=i), issue_type=issue, text=f"can't pay {i}", id=f"s-{i}", embedding=vec)
             for i, (issue, vec) in enumerate([("service_outage", up)] * 3 + [("service_outage", down), ("billing_error", up)])]  # fmt: skip
    alerts = run(background() + split, SpikeSettings(topic_min_count=4, pair_min_count=4))
    assert [(a.issue_type, a.topic, a.count) for a in alerts] == [("service_outage", None, 4)]


def _pair(start: datetime, issues: tuple[str, str], vecs, language: str = "en") -> list[SignalEvent]:  # type: ignore[no-untyped-def]
    return [SignalEvent(at=start + timedelta(minutes=3 * i), issue_type=issue, text=f"pay fails {i}", id=f"p-{i}",
                        embedding=vec, language=language) for i, (issue, vec) in enumerate(zip(issues, vecs))]  # fmt: skip


def test_a_close_pair_of_one_issue_type_alerts_but_not_across_types_nor_loose_indonesian() -> None:
    start = T0 + timedelta(days=2, hours=10, minutes=3)
    # cosine 0.72 between the two: above the pair threshold (0.7), below the Indonesian one (0.75) and
    # below what links complaints of different issue types (0.75); orthogonal to the background
    vecs = [(0.0, 0.0, 0.0, 1.0), (0.0, 0.0, -(1 - 0.72**2) ** 0.5, 0.72)]
    same = run(background() + _pair(start, ("service_outage", "service_outage"), vecs))
    assert [(a.issue_type, a.count, a.event_ids) for a in same] == [("service_outage", 2, ["p-0", "p-1"])]
    assert run(background() + _pair(start, ("service_outage", "billing_error"), vecs)) == []
    assert run(background() + _pair(start, ("service_outage", "service_outage"), vecs, language="id")) == []
    near_identical = [(0.0, 0.0, 0.0, 1.0), (0.0, 0.0, -0.6, 0.8)]  # cosine 0.8
    assert len(run(background() + _pair(start, ("service_outage", "service_outage"), near_identical, language="id"))) == 1


def test_yesterdays_burst_does_not_make_todays_look_normal() -> None:
    # Twenty outage complaints yesterday were an alerted burst: they stay out of the baseline, so two
    # like them today stand out at once (counted in, they would predict 0.09 in 15 minutes and today's
    # alert would wait for the fourth complaint).
    yesterday = burst(T0 + timedelta(days=1, hours=9), 20, timedelta(minutes=3))
    today = [replace(e, at=e.at + timedelta(days=1), id=f"today-{i}", text=f"checkout fails again {i}")
             for i, e in enumerate(burst(T0 + timedelta(days=1, hours=9), 6, timedelta(minutes=3)))]  # fmt: skip
    alerts = run(background() + yesterday + today)
    assert [a.detected_at.date() for a in alerts] == [(T0 + timedelta(days=1)).date(), (T0 + timedelta(days=2)).date()]
    assert alerts[1].event_ids == ["today-0", "today-1"] and alerts[1].baseline < 0.03


def _sustained(days: int = 5) -> list[SignalEvent]:
    """The background, then from day 1 outage complaints every 3 minutes (20 an hour) for good, worded
    alike: a rise that lasts."""
    rise = [SignalEvent(at=T0 + timedelta(days=1, minutes=3 * i), issue_type="service_outage", text=f"app down again {i}",
                        id=f"r-{i}", embedding=(0.0, 0.0, 0.0, 1.0)) for i in range((days - 1) * 24 * 20)]  # fmt: skip
    return sorted(background(days) + rise, key=lambda e: e.at)


def test_a_rise_that_lasts_becomes_the_new_normal() -> None:
    # Its complaints are a burst at first (left out of the baseline); when it alerts again after the
    # cooldown it is the new normal, and it stops alerting.
    alerts = run(_sustained())
    assert 1 <= len(alerts) <= 3, [(a.detected_at, a.count, a.baseline) for a in alerts]
    assert max(a.detected_at for a in alerts) < T0 + timedelta(days=1, hours=8)


def test_a_detector_rebuilt_from_the_recent_stream_finds_the_same_alerts() -> None:
    # The service rebuilds its detector from the last two baselines of stored signals (after a restart,
    # in every worker): from then on it must raise the alerts the live one raises, with the same ids.
    spec = SpikeSettings()
    events = _sustained(6) + burst(T0 + timedelta(days=5, hours=10), 6, timedelta(minutes=2), issue="billing_error",
                                   vec=(0.0, 1.0, -1.0, 0.0))  # fmt: skip
    events.sort(key=lambda e: e.at)
    rebuilt_at = T0 + timedelta(days=5, hours=6)
    live = [a for a in run(events, spec) if a.detected_at > rebuilt_at]
    since = rebuilt_at - 2 * (spec.baseline + spec.window)
    rebuilt = [a for a in run([e for e in events if e.at >= since], spec) if a.detected_at > rebuilt_at]
    assert live and [a.id for a in rebuilt] == [a.id for a in live]
