"""Spike detection on the stream of complaints, in event time.

Every complaint is an event (time, issue type, text, its embedding). When one arrives, two tests run:

- **Issue type.** The count of this issue type in the last ``window`` is compared with what its recent
  rate predicts. The rate is the count over the ``baseline`` span before the window, smoothed with a
  prior so that a quiet stream (or the first hours of one) is not one complaint away from an alert.
  Under a Poisson model the chance of that many or more is the p-value. An alert needs the count to
  reach ``min_count`` and the p-value to fall below ``alpha``.
- **Emerging topic.** The same test counts the complaints in the window that are close to this one in
  embedding space (cosine ``topic_similarity``), whatever their issue type. A burst of near-identical
  complaints ("checkout fails", "can't pay") stands out well before its issue type's count does.

The same text arriving again counts once in both tests (a copy-paste or a retry is one voice).

An alert is not repeated for the same issue type (or topic) within ``cooldown``, nor for a window whose
complaints were mostly in an alert already (one burst seen through another issue type or wording). Everything depends on
event times only, so replaying a recorded stream gives the same alerts.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from scipy.stats import poisson


@dataclass(frozen=True)
class SignalEvent:
    at: datetime
    issue_type: str
    text: str
    embedding: tuple[float, ...] | None = None
    id: str = ""
    language: str = "en"
    channel: str = "twitter"


@dataclass(frozen=True)
class Alert:
    id: str
    issue_type: str
    topic: str | None  # for a topic alert: the text of the complaint that tipped the test
    window_start: datetime
    detected_at: datetime  # event time of the complaint that tipped the test
    count: int
    baseline: float  # the count the recent rate predicts for the window
    p_value: float
    samples: list[str] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SpikeSettings:
    window: timedelta = timedelta(minutes=15)
    baseline: timedelta = timedelta(hours=48)
    min_count: int = 4
    alpha: float = 1e-4
    prior_per_hour: float = 0.5  # an issue type's assumed rate before its history says otherwise
    prior_hours: float = 12.0  # how much that assumption weighs, in hours of history
    # The topic test's settings and distinct_texts were chosen on simulated streams with seeds 0 to 2
    # (evals/crisis.py, incidents in the dev words): topic similarity 0.6 caught 8, 8 and 6 of 12 incidents
    # of 20+/h within 15 minutes of their start (0.7: 7, 7, 6) with 0.25, 0.5 and 0.5 false alerts a week;
    # min_count 3 caught one more of 12 per seed, at 1.0 to 1.25 false alerts a week.
    topic_similarity: float = 0.6
    topic_min_count: int = 3
    topic_prior_per_hour: float = 0.1
    cooldown: timedelta = timedelta(hours=3)
    distinct_texts: bool = True  # the same text posted again (a copy-paste, a retry) counts once
    samples: int = 5


def _unit(v: tuple[float, ...]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(a))
    return a / n if n else a


class SpikeDetector:
    def __init__(self, settings: SpikeSettings | None = None) -> None:
        self.s = settings or SpikeSettings()
        # the last baseline + window of events in time order, each with its unit embedding (or None)
        self._events: deque[tuple[SignalEvent, np.ndarray | None]] = deque()
        self._type_alerts: dict[str, datetime] = {}  # issue type -> its last alert
        self._topic_alerts: list[tuple[datetime, np.ndarray]] = []  # when, and the complaint that tipped it
        self._recent: list[tuple[datetime, set[str]]] = []  # when, and the complaints of each recent alert
        self._started: datetime | None = None

    def _expected(self, count_before: int, now: datetime, prior_per_hour: float) -> float:
        """The count the recent history predicts for one window, smoothed by the prior."""
        assert self._started is not None
        history_h = max(0.0, min((now - self.s.window - self._started).total_seconds(), self.s.baseline.total_seconds())) / 3600
        rate = (count_before + prior_per_hour * self.s.prior_hours) / (history_h + self.s.prior_hours)
        return rate * self.s.window.total_seconds() / 3600

    def _test(self, matches: list[SignalEvent], now: datetime, prior: float, min_count: int) -> tuple[float, float, list[SignalEvent]] | None:
        """The Poisson test on the matching events: (expected count, p-value, the window's events) when
        the window holds at least ``min_count`` of them and p < alpha."""
        window_start = now - self.s.window
        in_window = [e for e in matches if e.at > window_start]
        if self.s.distinct_texts:  # the same text posted again (a copy-paste, a retry) counts once
            first: dict[str, SignalEvent] = {}
            for e in in_window:
                first.setdefault(e.text, e)
            in_window = list(first.values())
        if len(in_window) < min_count:
            return None
        before = sum(1 for e in matches if e.at <= window_start)
        expected = self._expected(before, now, prior)
        p = float(poisson.sf(len(in_window) - 1, expected))
        return (expected, p, in_window) if p < self.s.alpha else None

    def _cooling(self, issue_type: str, now: datetime) -> bool:
        last = self._type_alerts.get(issue_type)
        return last is not None and now - last < self.s.cooldown

    def observe(self, event: SignalEvent) -> list[Alert]:
        """Add one event (events must arrive in event-time order) and return the alerts it tips."""
        if self._events and event.at < self._events[-1][0].at:
            raise ValueError("events must arrive in event-time order; sort a recorded stream before replaying it")
        self._started = self._started or event.at
        vec = _unit(event.embedding) if event.embedding is not None else None
        self._events.append((event, vec))
        horizon = event.at - self.s.baseline - self.s.window
        while self._events and self._events[0][0].at < horizon:
            self._events.popleft()
        self._topic_alerts = [(at, v) for at, v in self._topic_alerts if event.at - at < self.s.cooldown]
        self._recent = [(at, ids) for at, ids in self._recent if event.at - at < self.s.cooldown]
        alerts: list[Alert] = []
        tipped = False
        if not self._cooling(event.issue_type, event.at):
            same_type = [e for e, _ in self._events if e.issue_type == event.issue_type]
            found = self._test(same_type, event.at, self.s.prior_per_hour, self.s.min_count)
            tipped = found is not None
            if found:
                self._type_alerts[event.issue_type] = event.at
                if not self._repeats(event.at, found[2]):
                    alerts.append(self._alert(event, None, *found))
        if vec is None:
            return alerts
        covered = any(float(v @ vec) >= self.s.topic_similarity for _, v in self._topic_alerts)
        if tipped or covered:  # this burst already has its alert: the topic stays quiet for the cooldown
            if tipped:
                self._topic_alerts.append((event.at, vec))
            return alerts
        embedded = [(e, v) for e, v in self._events if v is not None]
        sims = np.stack([v for _, v in embedded]) @ vec
        near = [e for (e, _), sim in zip(embedded, sims, strict=True) if sim >= self.s.topic_similarity]
        found = self._test(near, event.at, self.s.topic_prior_per_hour, self.s.topic_min_count)
        if found:
            self._topic_alerts.append((event.at, vec))
            if not self._repeats(event.at, found[2]):
                alerts.append(self._alert(event, event.text[:200], *found))
            # the burst has its alert: the issue types that make up most of it stay quiet for the cooldown
            types = [e.issue_type for e in found[2]]
            for issue in set(types):
                if types.count(issue) * 2 >= len(types):
                    self._type_alerts[issue] = event.at
        return alerts

    def _repeats(self, now: datetime, in_window: list[SignalEvent]) -> bool:
        """Whether most of these complaints were already in an alert within the cooldown (the same burst,
        seen again through another issue type or another wording); if not, they are remembered."""
        ids = {e.id or f"{e.at.isoformat()}|{e.text}" for e in in_window}
        if any(len(ids & seen) * 2 >= len(ids) for _, seen in self._recent):
            return True
        self._recent.append((now, ids))
        return False

    def _alert(self, event: SignalEvent, topic: str | None, expected: float, p: float, in_window: list[SignalEvent]) -> Alert:
        key = f"topic:{topic}" if topic is not None else f"type:{event.issue_type}"
        ident = hashlib.sha256(f"{key}|{event.at.isoformat()}|{event.id}".encode()).hexdigest()[:16]
        return Alert(id=ident, issue_type=event.issue_type, topic=topic, window_start=event.at - self.s.window,
                     detected_at=event.at, count=len(in_window), baseline=round(expected, 3), p_value=p,
                     samples=[e.text for e in in_window[-self.s.samples :]], event_ids=[e.id for e in in_window])  # fmt: skip
