from datetime import UTC, datetime, timedelta

from service.review.audit import GENESIS, AuditEntry, AuditEvent, event_hash, verify

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def chain(n: int) -> list[AuditEvent]:
    events, prev = [], GENESIS
    for i in range(1, n + 1):
        entry = AuditEntry(draft_id="d1", actor="alice", role="reviewer", action=f"a{i}", at=T0 + timedelta(seconds=i))
        h = event_hash(i, entry, prev)
        events.append(AuditEvent(seq=i, prev_hash=prev, hash=h, **entry.model_dump()))
        prev = h
    return events


def test_an_intact_chain_verifies() -> None:
    events = chain(5)
    result = verify(events, head=(5, events[-1].hash))
    assert result.ok and result.checked == 5


def test_an_edited_event_is_named() -> None:
    events = chain(5)
    events[2] = events[2].model_copy(update={"note": "changed afterwards"})
    result = verify(events, head=(5, events[-1].hash))
    assert not result.ok and any("event 3 was edited" in p for p in result.problems)


def test_a_deleted_event_is_named() -> None:
    events = chain(5)
    del events[1]
    result = verify(events, head=(5, events[-1].hash))
    assert any("event 2 is missing" in p for p in result.problems)


def test_a_deleted_tail_is_caught_by_the_head() -> None:
    events = chain(5)
    result = verify(events[:4], head=(5, events[-1].hash))
    assert not result.ok and "deleted" in result.summary()


def test_naive_and_aware_times_hash_the_same() -> None:
    e = AuditEntry(draft_id=None, actor="a", role="admin", action="x", at=T0)
    naive = e.model_copy(update={"at": T0.replace(tzinfo=None)})
    assert event_hash(1, e, GENESIS) == event_hash(1, naive, GENESIS)
