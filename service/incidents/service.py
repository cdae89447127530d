"""Crisis mode: every complaint is a signal; spikes raise alerts; incidents link complaints, shape their
drafts, and prepare follow-ups when their status changes.

The spike detector and the linker live in memory and are rebuilt from the store on first use (the last
baseline of signals, the open incidents), so a restart or a replay gives the same alerts. One lock
serialises them: signals arrive one at a time in event order; a signal older than the newest one (a late
delivery, a backfill) makes the detector replay the recent stream from the store, which finds the same
alerts as before plus any the late signal tips.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from service import language as lang_detect
from service.auth.keys import Principal, Role
from service.drafting.context import DraftContext
from service.drafting.pipeline import DraftingPipeline, Understood
from service.errors import AlertNotFound, Conflict, IncidentNotFound, InvalidInput, PreconditionFailed, ServiceError
from service.incidents import followups
from service.incidents.followups import REPLIED
from service.incidents.linking import Linker, backfill
from service.incidents.models import AlertRecord, CrisisFile, Incident, IncidentStatus, Signal, TimelineEntry
from service.incidents.spikes import Alert, SignalEvent, SpikeDetector, SpikeSettings
from service.models import Cause, Complaint, Draft, DraftKind, DraftStatus
from service.ports import Clock
from service.review.audit import AuditEntry

log = logging.getLogger(__name__)
CATCH_UP_MARGIN = timedelta(seconds=30)  # receipt times of concurrent writers may commit out of order
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ a little; a signal from further in the future is refused


class AlertWebhook:
    """Posts each new alert as JSON to a URL, in the background, with a few retries; failures are logged
    (the alert is stored either way and listed by GET /v1/alerts)."""

    def __init__(self, url: str, *, timeout_s: float = 5.0, retries: int = 2) -> None:
        self.url, self.timeout_s, self.retries = url, timeout_s, retries
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alert-webhook")
        self._pending: list[Future[bool]] = []

    def send(self, alert: AlertRecord) -> None:
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self._pool.submit(self._post, alert.model_dump(mode="json", exclude={"event_ids"})))

    def _post(self, body: dict[str, Any]) -> bool:
        import httpx

        for attempt in range(self.retries + 1):
            try:
                r = httpx.post(self.url, json={"type": "alert", "alert": body}, timeout=self.timeout_s)
                if r.status_code < 300:
                    return True
                log.warning("alert webhook answered %s (attempt %d)", r.status_code, attempt + 1)
            except httpx.HTTPError as exc:
                log.warning("alert webhook failed: %s (attempt %d)", exc.__class__.__name__, attempt + 1)
        return False

    def drain(self, timeout: float = 30.0) -> list[bool]:
        """Wait for the deliveries in flight (tests, shutdown); their outcomes, oldest first."""
        done, self._pending = self._pending, []
        return [f.result(timeout=timeout) for f in done]


def _record(a: Alert) -> AlertRecord:
    return AlertRecord(**asdict(a))


class CrisisService:
    def __init__(
        self, *, store: Any, pipeline: DraftingPipeline, clock: Clock, crisis: CrisisFile,
        spikes: SpikeSettings | None = None, webhook: AlertWebhook | None = None,
    ) -> None:  # fmt: skip
        self.store, self.pipeline, self.clock, self.crisis = store, pipeline, clock, crisis
        self.spikes = spikes or SpikeSettings()
        self.webhook = webhook
        self._lock = threading.RLock()
        self._detector: SpikeDetector | None = None
        self._linker: Linker | None = None
        self._last_at: datetime | None = None  # event time of the newest signal the detector has seen
        self._seen: dict[str, datetime] = {}  # signals recently taken in: id -> when they were received
        self._checked: datetime | None = None  # the newest receipt time taken in
        self._incidents: dict[str, int] = {}  # open incidents in the linker: id -> version

    # ------------------------------------------------------------ state rebuilt from the store

    def _event(self, s: Signal) -> SignalEvent:
        return SignalEvent(at=s.at, issue_type=s.issue_type, text=s.text, embedding=tuple(s.embedding) or None,
                           id=s.id, language=s.language.value, channel=s.channel.value)  # fmt: skip

    def _replay(self) -> list[Alert]:
        """A fresh detector fed the stored stream (twice its memory before the newest signal, so the
        events it judges last have their full baseline); returns every alert it raises, old ones included."""
        self._detector = SpikeDetector(self.spikes)
        self._seen, self._checked = {}, None
        newest = self.store.last_signal_at()
        if newest is None:
            return []
        alerts: list[Alert] = []
        for s in self.store.signals(since=newest - 2 * (self.spikes.baseline + self.spikes.window)):
            alerts.extend(self._detector.observe(self._event(s)))
            self._take(s)
        return alerts

    def _take(self, s: Signal) -> None:
        self._last_at = s.at if self._last_at is None else max(self._last_at, s.at)
        self._seen[s.id] = s.received_at
        self._checked = s.received_at if self._checked is None else max(self._checked, s.received_at)

    def _catch_up(self) -> list[Alert]:
        """Feed the detector every signal stored since it last looked: this process's and those other
        workers stored meanwhile, so every worker sees the same stream. A signal older than the newest
        one seen (a late delivery, a backfill) makes it replay the stream with that signal in its place."""
        assert self._detector is not None
        since = self._checked - CATCH_UP_MARGIN if self._checked else None
        new = [s for s in self.store.signals(received_since=since) if s.id not in self._seen]
        if not new:
            return []
        earliest = min(s.at for s in new)
        if self._last_at is not None and earliest < self._last_at:
            # Only what the late signals change counts: alerts from their time on, and not a burst that
            # has its alert already (the replayed detector may see it tip a complaint earlier).
            recent = self.store.alerts(since=earliest - self.spikes.cooldown, limit=500)
            return [a for a in self._replay() if a.detected_at >= earliest and not self._known(a, recent)]
        alerts: list[Alert] = []
        for s in new:
            alerts.extend(self._detector.observe(self._event(s)))
            self._take(s)
        assert self._checked is not None
        self._seen = {k: t for k, t in self._seen.items() if t >= self._checked - CATCH_UP_MARGIN}
        return alerts

    @staticmethod
    def _known(a: Alert, stored: list[AlertRecord]) -> bool:
        ids = set(a.event_ids)
        return any(len(ids & set(r.event_ids)) * 2 >= len(ids) for r in stored)

    def _sync_incidents(self) -> None:
        """Open, refresh or close incidents in the linker as the store says (another worker may have
        opened or changed one)."""
        assert self._linker is not None
        current = {i.id: i for i in self.store.incidents(open_only=True)}
        for ident in list(self._incidents):
            if ident not in current:
                self._linker.close(ident)
                del self._incidents[ident]
        for ident, inc in current.items():
            if self._incidents.get(ident) != inc.version:
                self._open_in_linker(inc)

    def _references(self, incident: Incident) -> list[list[float]]:
        texts = [t for t in (incident.title, *incident.titles.values(), incident.public_note) if t]
        refs = list(self.pipeline.embedder.embed(texts)) if texts else []
        for alert_id in dict.fromkeys([incident.alert_id, *incident.alert_ids]):
            alert = self.store.get_alert(alert_id) if alert_id else None
            if alert is not None and alert.event_ids:
                refs += [s.embedding for s in self.store.signals_by_id(alert.event_ids) if s.embedding]
        return refs

    def _ready(self) -> tuple[SpikeDetector, Linker]:
        if self._detector is None or self._linker is None:
            self._replay()
            link = self.crisis.linking
            self._linker = Linker(link.threshold, link.references, link.any_type_threshold)
        self._sync_incidents()
        assert self._detector is not None and self._linker is not None
        return self._detector, self._linker

    def _open_in_linker(self, inc: Incident) -> None:
        assert self._linker is not None
        self._incidents[inc.id] = inc.version
        self._linker.open(inc.id, inc.issue_types, self._references(inc))
        for s in self.store.signals(incident_id=inc.id)[-self.crisis.linking.references :]:
            self._linker.add(inc.id, s.embedding)

    # ------------------------------------------------------------ signals and drafts

    def link(self, u: Understood) -> tuple[Incident, float] | None:
        """The open incident this complaint belongs to (and its score), if any."""
        with self._lock:
            _, linker = self._ready()
            found = linker.link(u.classification.issue_type, u.embedding)
        if not found:
            return None
        incident = self.store.get_incident(found[0])
        return (incident, found[1]) if incident is not None and incident.open else None

    def record(
        self, u: Understood, *, at: datetime | None = None, draft_id: str | None = None,
        incident: tuple[Incident, float] | None = None,
    ) -> tuple[Signal, list[AlertRecord]]:  # fmt: skip
        """Store the complaint as a signal (at event time ``at``, now when None) and run the detector."""
        c = u.classification
        reach = u.complaint.author.followers if u.complaint.author else None
        with self._lock:
            now = self.clock.now()  # taken under the lock: receipt times follow the order of the writes
            signal = Signal(
                id=uuid.uuid4().hex, at=(at or now).astimezone(UTC), received_at=now, channel=u.complaint.channel,
                public=u.complaint.public, issue_type=c.issue_type, severity=c.severity, language=c.language,
                reach=reach, text=u.redacted, embedding=list(u.embedding), draft_id=draft_id,
                incident_id=incident[0].id if incident else None, link_score=round(incident[1], 4) if incident else None,
            )  # fmt: skip
            self._ready()
            self.store.add_signal(signal)
            raised = self._catch_up()
            fresh = [r for r in map(self._covered, raised) if self.store.add_alert(r)]
        for alert in fresh:
            if alert.incident_id:  # most of its complaints are already linked to an open incident
                log.info("alert %s is covered by incident %s", alert.id, alert.incident_id)
                continue
            log.warning("alert %s: %s count %d vs baseline %.2f", alert.id, alert.topic or alert.issue_type,
                        alert.count, alert.baseline)  # fmt: skip
            if self.webhook:
                self.webhook.send(alert)
        return signal, fresh

    def _covered(self, a: Alert) -> AlertRecord:
        """The alert as stored: with the open incident that most of its complaints are linked to, if any."""
        record = _record(a)
        linked = [s.incident_id for s in self.store.signals_by_id(a.event_ids)]
        top = max(set(linked), key=linked.count) if linked else None
        if top is not None and linked.count(top) * 2 >= len(linked):
            record.incident_id = top
        return record

    def signal(self, complaint: Complaint, context: DraftContext, *, at: datetime | None) -> tuple[Signal, list[AlertRecord]]:
        """POST /v1/signals: record a complaint that needs no reply (classified, linked, not drafted)."""
        if at is not None and at > self.clock.now() + FUTURE_SLACK:
            raise InvalidInput(f"created_at {at.isoformat()} is in the future; send the time the complaint was posted")
        u = self.pipeline.understand(complaint, context)
        return self.record(u, at=at, incident=self.link(u))

    def draft(
        self, complaint: Complaint, context: DraftContext, *, variants: int, actor: str, role: str,
        at: datetime | None = None,
    ) -> Draft:  # fmt: skip
        """Draft a reply; a complaint that belongs to an open incident is drafted with the incident's
        facts, in crisis mode, and linked to it. The complaint is recorded as a signal either way."""
        u = self.pipeline.understand(complaint, context)
        linked = self.link(u)
        if linked and context.incident is None:
            inc = linked[0]
            context = followups.context_with(context, inc)
            if inc.at_fault and context.at_fault is None:
                u = Understood(u.complaint, context, u.redacted, u.embedding,
                               u.classification.model_copy(update={"at_fault": True, "cause": Cause.our_error}))  # fmt: skip
        draft = self.pipeline.make_draft(complaint, context, variants=variants, understood=u)
        if linked:
            draft = self._crisis_mode(draft.model_copy(update={"incident_id": linked[0].id}))
        self.store.add(draft, self.pipeline.creation_events(draft, actor=actor, role=role,
                                                            note=f"linked to incident {linked[0].id}" if linked else None))  # fmt: skip
        try:  # the draft is stored: a failure to count it must not fail the request (a retry would duplicate it)
            self.record(u, at=at, draft_id=draft.id, incident=linked)
        except ServiceError as exc:
            log.error("draft %s stored, but its signal was not recorded: %s", draft.id, exc.detail)
        return draft

    def _crisis_mode(self, draft: Draft) -> Draft:
        """A draft linked to an open incident: on a public channel it needs the crisis tier of reviewers,
        and its deadline is no later than the crisis deadline."""
        playbook = self.pipeline.pack.playbooks.get(draft.classification.issue_type)
        mode = playbook.crisis_mode if playbook and playbook.crisis_mode else self.crisis.crisis_mode
        deadline = min(draft.deadline, draft.created_at + timedelta(minutes=mode.deadline_minutes))
        review = draft.review
        if draft.complaint.public:
            review = review.model_copy(update={"required_approvals": max(review.required_approvals, mode.approvals)})
        return draft.model_copy(update={"deadline": deadline, "review": review})

    # ------------------------------------------------------------ alerts and incidents

    def alerts(self, *, since: datetime | None = None, limit: int = 100) -> list[AlertRecord]:
        return self.store.alerts(since=since, limit=limit)

    def get(self, incident_id: str) -> Incident:
        incident = self.store.get_incident(incident_id)
        if incident is None:
            raise IncidentNotFound(f"no incident with id {incident_id!r}")
        return incident

    def linked_count(self, incident_id: str) -> int:
        return self.store.count_linked(incident_id)

    def _check_types(self, issue_types: Sequence[str]) -> None:
        known = {t.id for t in self.pipeline.pack.taxonomy.issue_types}
        unknown = [t for t in issue_types if t not in known]
        if unknown:
            raise InvalidInput(f"unknown issue type(s) {', '.join(unknown)}; the taxonomy has {', '.join(sorted(known))}")

    def create(
        self, who: Principal, *, title: str | None, issue_types: list[str] | None, status: IncidentStatus,
        at_fault: bool, public_note: str | None, holding_statement: str | None, alert_id: str | None,
        titles: dict[Any, str] | None = None,
    ) -> Incident:  # fmt: skip
        who.require(Role.reviewer)
        alert = self._free_alert(alert_id) if alert_id is not None else None
        if not issue_types:
            if alert is None:
                raise InvalidInput("give issue_types (or alert_id, to take them from the alert)")
            issue_types = self._alert_types(alert)
        self._check_types(issue_types)
        title = title or (alert.topic if alert and alert.topic else None)
        if not title:
            raise InvalidInput("give a title (a short noun phrase, such as 'checkout outage')")
        now = self.clock.now()
        incident = Incident(
            id=uuid.uuid4().hex[:12], title=title, titles=titles or {}, issue_types=list(dict.fromkeys(issue_types)),
            status=status,
            at_fault=at_fault, public_note=public_note, holding_statement=holding_statement, alert_id=alert_id,
            alert_ids=[alert_id] if alert_id else [], created_at=now, updated_at=now, resolved_at=now if status is IncidentStatus.resolved else None,
            timeline=[TimelineEntry(at=now, what=f"opened ({status.value})" + (f" from alert {alert_id}" if alert_id else ""),
                                    actor=who.actor)],
        )  # fmt: skip
        if alert is not None:
            self._claim(alert, incident.id)
        try:
            self.store.add_incident(incident)
        except Exception:
            if alert is not None:
                self.store.release_alert(alert.id, incident.id, alert.incident_id)
            raise
        if incident.open:
            with self._lock:
                self._ready()  # opens it in the linker
                self._backfill(incident)
        return incident

    def _free_alert(self, alert_id: str, incident_id: str | None = None) -> AlertRecord:
        """The alert, unless it is unknown (404) or belongs to an open incident other than this one (409)."""
        alert = self.store.get_alert(alert_id)
        if alert is None:
            raise AlertNotFound(f"no alert with id {alert_id!r}")
        self._check_owner(alert, incident_id)
        return alert

    def _check_owner(self, alert: AlertRecord, incident_id: str | None) -> None:
        owner = self.store.get_incident(alert.incident_id) if alert.incident_id and alert.incident_id != incident_id else None
        if owner is not None and owner.open:
            raise Conflict(f"alert {alert.id} already belongs to open incident {owner.id}", incident_id=owner.id)

    def _claim(self, alert: AlertRecord, incident_id: str) -> None:
        """Take the alert for the incident, in one compare-and-set (two requests cannot both take it)."""
        if not self.store.claim_alert(alert.id, incident_id):
            current = self.store.get_alert(alert.id) or alert
            self._check_owner(current, incident_id)
            raise Conflict(f"alert {alert.id} was just taken by another incident; reload the alerts")

    def _alert_types(self, alert: AlertRecord) -> list[str]:
        """The issue types of at least a quarter of the alert's complaints: a burst about one problem is
        often split between types by the classifier ("checkout fails": outage or billing)."""
        types = [s.issue_type for s in self.store.signals_by_id(alert.event_ids)] or [alert.issue_type]
        return [t for t in dict.fromkeys([alert.issue_type, *types]) if types.count(t) * 4 >= len(types)] or [alert.issue_type]

    def attach_alert(self, incident_id: str, who: Principal, alert_id: str) -> Incident:
        """Another alert about an open incident (the same story in another language or wording, a second
        wave): its complaints become references, its issue types the incident's, and the complaints of the
        lookback (24 h) that match are linked, its own among them."""
        who.require(Role.reviewer)
        incident = self.get(incident_id)
        if alert_id in incident.alert_ids:
            return incident
        if not incident.open:
            raise Conflict(f"incident {incident_id} is resolved; open a new incident from the alert", incident_id=incident_id)
        alert = self._free_alert(alert_id, incident_id)
        self._claim(alert, incident_id)

        def attach(current: Incident) -> dict[str, Any] | None:  # checked again on each try
            if alert_id in current.alert_ids:
                return None
            if not current.open:
                raise Conflict(f"incident {incident_id} was resolved meanwhile; open a new incident from the alert",
                               incident_id=incident_id)  # fmt: skip
            now = self.clock.now()
            return {"alert_ids": [*current.alert_ids, alert_id], "updated_at": now,
                    "issue_types": list(dict.fromkeys([*current.issue_types, *self._alert_types(alert)])),
                    "timeline": [*current.timeline, TimelineEntry(at=now, what=f"alert {alert_id} attached", actor=who.actor)]}  # fmt: skip

        try:
            incident = self._amend(incident_id, attach, busy="try attaching the alert again")
        except Exception:
            self.store.release_alert(alert_id, incident_id, alert.incident_id)
            raise
        with self._lock:
            self._ready()  # reopens it in the linker with the alert's complaints as references
            self._backfill(incident)
        return incident

    def _backfill(self, incident: Incident) -> None:
        """Link the earlier unlinked complaints of the last lookback hours, and their drafts."""
        assert self._linker is not None
        newest = self._last_at or self.clock.now()
        since = newest - timedelta(hours=self.crisis.linking.lookback_hours)
        earlier = [s for s in self.store.signals(since=since) if s.incident_id is None]
        found = dict(backfill(self._linker, incident.id, [(s.id, s.issue_type, s.embedding) for s in earlier]))
        if not found:
            return
        self.store.link_signals(incident.id, {k: round(v, 4) for k, v in found.items()})
        now = self.clock.now()
        for s in earlier:
            if s.id in found and s.draft_id:
                draft = self.store.get(s.draft_id)
                if draft is None or draft.incident_id:
                    continue
                new = draft.model_copy(update={"incident_id": incident.id, "version": draft.version + 1})
                if new.status is DraftStatus.pending_review and not new.review.approvals:
                    new = self._crisis_mode(new)
                event = AuditEntry(draft_id=draft.id, actor="system", role="system", action="linked",
                                   from_state=draft.status.value, to_state=draft.status.value,
                                   note=f"linked to incident {incident.id}", prompt_refs=draft.prompt_refs, at=now)  # fmt: skip
                try:
                    self.store.save(new, expected_version=draft.version, events=[event], now=now)
                except Exception:  # a reviewer acted on it meanwhile: the signal stays linked, the draft as it is
                    log.warning("could not link draft %s to incident %s", draft.id, incident.id)

    def update(
        self, incident_id: str, who: Principal, *, changes: dict[str, Any], if_match: int | None = None
    ) -> Incident:
        """Change the status or notes; a change of status to identified, monitoring or resolved prepares
        follow-up drafts for every linked thread that received a reply."""
        who.require(Role.reviewer)
        incident = self.get(incident_id)
        if if_match is not None and if_match != incident.version:
            raise PreconditionFailed(f"If-Match names version {if_match}, but the incident is at version {incident.version}",
                                     current_version=incident.version)  # fmt: skip
        if "issue_types" in changes and changes["issue_types"] is not None:
            self._check_types(changes["issue_types"])
        now = self.clock.now()
        updates = {k: v for k, v in changes.items() if k != "status"}
        status = changes.get("status")
        timeline = list(incident.timeline)
        if updates:
            timeline.append(TimelineEntry(at=now, what=f"changed {', '.join(sorted(updates))}", actor=who.actor))
        moved = status is not None and status != incident.status
        if moved:
            timeline.append(TimelineEntry(at=now, what=f"status {incident.status.value} -> {status.value}", actor=who.actor))
        new = incident.model_copy(update={
            **updates, "status": status or incident.status, "updated_at": now, "version": incident.version + 1,
            "timeline": timeline,
            "resolved_at": (now if status is IncidentStatus.resolved else None) if moved else incident.resolved_at,
        })  # fmt: skip
        new = Incident.model_validate(new.model_dump())
        self.store.save_incident(new, expected_version=incident.version)
        with self._lock:
            self._ready()  # reopens it in the linker with its new title and note, or closes it
        if moved and new.status is not IncidentStatus.investigating:
            new = self._follow_up(new, who, now)
        return new

    def _follow_up(self, incident: Incident, who: Principal, now: datetime) -> Incident:
        """A follow-up for each linked thread that received a reply, unless the thread has one about this
        status already (a status moved back and forth, an incident reopened and resolved again)."""
        drafts = self.store.incident_drafts(incident.id)
        structure = f"follow_up_{incident.status.value}"
        done = {d.follows for d in drafts if d.kind is DraftKind.follow_up
                and d.status not in (DraftStatus.rejected, DraftStatus.superseded)
                and any(v.structure == structure for v in d.variants)}  # fmt: skip
        prepared = []
        for draft in drafts:
            if draft.kind is not DraftKind.reply or draft.status not in REPLIED or draft.id in done:
                continue
            fu = followups.follow_up_draft(self.pipeline, self.crisis, incident, draft, now=now)
            events = self.pipeline.creation_events(fu, actor=who.actor, role=who.role.value,
                                                   note=f"follow-up of {draft.id} ({incident.status.value})")  # fmt: skip
            self.store.add(fu, events)
            prepared.append(fu.id)
        if not prepared:
            return incident
        entry = TimelineEntry(at=now, what=f"{len(prepared)} follow-up drafts prepared ({incident.status.value})", actor="system")
        return self._amend(incident.id, lambda i: {"follow_ups": [*i.follow_ups, *prepared], "timeline": [*i.timeline, entry]})

    def _amend(
        self, incident_id: str, change: Callable[[Incident], dict[str, Any] | None], *,
        busy: str = "the prepared drafts are stored, reload it to see them",
    ) -> Incident:  # fmt: skip
        """Apply ``change`` to the incident's latest version (someone may have changed it meanwhile: it is
        asked again on each try; None means nothing to change)."""
        for _ in range(5):
            current = self.get(incident_id)
            update = change(current)
            if update is None:
                return current
            new = current.model_copy(update={**update, "version": current.version + 1})
            try:
                self.store.save_incident(new, expected_version=current.version)
                return new
            except Conflict:
                continue
        raise Conflict(f"the incident keeps changing; {busy}", incident_id=incident_id)

    def recovery_post(
        self, incident_id: str, who: Principal, *, channel: Any, language: Any, what_changed: list[str],
    ) -> Draft:  # fmt: skip
        who.require(Role.reviewer)
        incident = self.get(incident_id)
        other = [c for c in what_changed if c.strip() and lang_detect.detect(c, default=language) != language]
        if other:
            raise InvalidInput(f"what_changed must be written in the post's language ({language.value}); "
                               f"this is not: {other[0][:80]!r}")  # fmt: skip
        now = self.clock.now()
        linked = self.store.signals(incident_id=incident.id)
        started = min(linked[0].at, incident.created_at) if linked else incident.created_at
        draft = followups.recovery_draft(self.pipeline, self.crisis, incident, channel=channel, language=language,
                                         what_changed=what_changed, now=now, started=started)  # fmt: skip
        self.store.add(draft, self.pipeline.creation_events(draft, actor=who.actor, role=who.role.value,
                                                            note=f"recovery post for incident {incident.id}"))  # fmt: skip
        entry = TimelineEntry(at=now, what=f"recovery post drafted ({draft.id})", actor=who.actor)
        self._amend(incident.id, lambda i: {"recovery_posts": [*i.recovery_posts, draft.id], "timeline": [*i.timeline, entry]})
        return draft
