"""The same store tests on SQLite and on a real PostgreSQL (a fresh database each)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from service.adapters.sql_store import SqlStore, migrate
from service.incidents.models import AlertRecord, Incident, IncidentStatus, Signal
from service.errors import Conflict
from service.models import (
    Cause, Channel, Classification, Complaint, Draft, DraftStatus, Language, Sentiment, Severity,
)  # fmt: skip
from service.review.audit import AuditEntry, verify
from service.review.queue import DraftFilter
from tests.pg import fresh_database

pytestmark = pytest.mark.integration
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        yield SqlStore(f"sqlite:///{tmp_path}/store.db")
    else:
        with fresh_database() as url:
            s = SqlStore(url)
            yield s
            s.engine.dispose()


def make_draft(i: int, *, severity: Severity = Severity.medium, deadline_min: int = 60, issue: str = "delivery_delay") -> Draft:
    c = Classification(issue_type=issue, confidence=0.9, is_complaint=True, severity=severity, sentiment=Sentiment.negative,
                       language=Language.en, cause=Cause.unclear, at_fault=False, signals=[])  # fmt: skip
    return Draft(
        id=f"d{i}", complaint=Complaint(text=f"complaint {i}", channel=Channel.chat, public=False),
        redacted_text=f"complaint {i}", context={}, classification=c, sources=[], variants=[],
        deadline=T0 + timedelta(minutes=deadline_min), prompt_refs={}, playbook=f"{issue}@v1", created_at=T0,
    )  # fmt: skip


def event(draft_id: str, action: str) -> AuditEntry:
    return AuditEntry(draft_id=draft_id, actor="alice (k1)", role="reviewer", action=action, at=T0)


def test_migrations_build_the_schema_from_empty(store: SqlStore) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"drafts", "audit_events", "audit_head", "api_keys", "signals", "alerts", "incidents", "alembic_version"} <= tables
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    assert store.audit_head() == (0, "0" * 64)


def test_add_get_and_audit(store: SqlStore) -> None:
    d = make_draft(1)
    store.add(d, [event(d.id, "created"), event(d.id, "checked")])
    assert store.get("d1") == d
    assert store.get("nope") is None
    events = store.audit("d1")
    assert [e.action for e in events] == ["created", "checked"] and events[0].seq == 1
    assert verify(store.audit(), head=store.audit_head()).ok


def test_save_is_a_compare_and_swap(store: SqlStore) -> None:
    d = make_draft(2)
    store.add(d)
    approved = d.model_copy(update={"status": DraftStatus.approved, "version": 2})
    store.save(approved, expected_version=1, events=[event(d.id, "approved")], now=T0)
    rejected = d.model_copy(update={"status": DraftStatus.rejected, "version": 2})
    with pytest.raises(Conflict):
        store.save(rejected, expected_version=1, events=[event(d.id, "rejected")], now=T0)
    assert store.get("d2").status == DraftStatus.approved  # type: ignore[union-attr]
    assert [e.action for e in store.audit("d2")] == ["approved"]  # the failed write left no event


def test_queue_filters_orders_and_counts(store: SqlStore) -> None:
    store.add(make_draft(1, deadline_min=120))
    store.add(make_draft(2, deadline_min=30, severity=Severity.low))
    store.add(make_draft(3, deadline_min=30, severity=Severity.critical, issue="product_safety"))
    page = store.list(DraftFilter())
    assert [d.id for d in page.items] == ["d3", "d2", "d1"]  # deadline first, then the most severe
    assert page.total == 3 and page.counts["pending_review"] == 3 and page.counts["approved"] == 0
    assert [d.id for d in store.list(DraftFilter(issue_type="product_safety")).items] == ["d3"]
    assert [d.id for d in store.list(DraftFilter(limit=1, offset=1)).items] == ["d2"]


def test_tampering_is_detected_and_located(store: SqlStore) -> None:
    for i in range(1, 4):
        store.add(make_draft(i), [event(f"d{i}", "created")])
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET note = 'rewritten' WHERE seq = 2"))
    result = verify(store.audit(), head=store.audit_head())
    assert not result.ok and any("event 2 was edited" in p for p in result.problems)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    result = verify(store.audit(), head=store.audit_head())
    assert any("deleted" in p for p in result.problems)


def test_keys(store: SqlStore) -> None:
    store.add_key(key_id="k1", name="alice", role="reviewer", key_hash="h" * 64, prefix="tn_abc", now=T0)
    assert store.find_key("h" * 64).name == "alice"  # type: ignore[union-attr]
    assert store.revoke_key("k1", now=T0) and store.find_key("h" * 64).revoked_at is not None  # type: ignore[union-attr]
    assert not store.revoke_key("nope", now=T0)


def test_a_store_of_the_first_schema_upgrades_with_its_drafts(tmp_path: Path) -> None:
    old = SqlStore(f"sqlite:///{tmp_path}/old.db", run_migrations=False)
    migrate(old.engine, "0001")
    with old.engine.begin() as conn:  # a draft as the first schema stored it
        d = make_draft(1)
        conn.execute(text(
            "INSERT INTO drafts (id, status, version, issue_type, severity, severity_rank, language, channel, deadline, "
            "created_at, updated_at, payload) VALUES (:id, 'pending_review', 1, 'delivery_delay', 'medium', 1, 'en', "
            "'chat', :t, :t, :t, :p)"), {"id": d.id, "t": T0, "p": d.model_dump_json(exclude={"kind", "incident_id", "follows"})})  # fmt: skip
    new = SqlStore(f"sqlite:///{tmp_path}/old.db")
    got = new.get(d.id)
    assert got is not None and got.kind.value == "reply" and got.incident_id is None
    assert new.incident_drafts("any") == []


def test_signals_alerts_and_incidents(store: SqlStore) -> None:
    sig = [Signal(id=f"s{i}", at=T0 + timedelta(minutes=i), received_at=T0, channel=Channel.twitter, public=True,
                  issue_type="service_outage", severity=Severity.medium, language=Language.id, text=f"error {i}",
                  embedding=[0.1 * i, 1.0]) for i in range(3)]  # fmt: skip
    for s in reversed(sig):
        store.add_signal(s)
    assert [s.id for s in store.signals()] == ["s0", "s1", "s2"]  # event time, not arrival
    assert [s.id for s in store.signals(since=T0 + timedelta(minutes=1))] == ["s1", "s2"]
    assert store.signals()[1].embedding == [0.1, 1.0] and store.last_signal_at() == T0 + timedelta(minutes=2)
    alert = AlertRecord(id="a1", issue_type="service_outage", topic=None, window_start=T0, detected_at=T0 + timedelta(minutes=2),
                        count=3, baseline=0.1, p_value=1e-5, samples=["error 2"], event_ids=["s0", "s1", "s2"])  # fmt: skip
    assert store.add_alert(alert) and not store.add_alert(alert)  # a replay finds it again: stored once
    inc = Incident(id="i1", title="checkout outage", issue_types=["service_outage"], status=IncidentStatus.investigating,
                   created_at=T0, updated_at=T0)  # fmt: skip
    store.add_incident(inc)
    assert store.claim_alert("a1", "i1") and store.claim_alert("a1", "i1")  # taking it again is fine
    other = inc.model_copy(update={"id": "i2"})
    store.add_incident(other)
    assert not store.claim_alert("a1", "i2")  # i1 is open and has it
    store.link_signals("i1", {"s0": 0.9, "s2": 0.7})
    assert store.get_alert("a1").incident_id == "i1" and store.count_linked("i1") == 2  # type: ignore[union-attr]
    assert [s.id for s in store.signals(incident_id="i1")] == ["s0", "s2"]
    store.save_incident(inc.model_copy(update={"status": IncidentStatus.resolved, "version": 2}), expected_version=1)
    assert store.claim_alert("a1", "i2") and store.get_alert("a1").incident_id == "i2"  # type: ignore[union-attr]
    store.release_alert("a1", "i2", "i1")
    assert store.get_alert("a1").incident_id == "i1"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        store.save_incident(inc.model_copy(update={"version": 2}), expected_version=1)
    assert [i.id for i in store.incidents(open_only=True)] == ["i2"] and store.get_incident("i1").status is IncidentStatus.resolved  # type: ignore[union-attr]
