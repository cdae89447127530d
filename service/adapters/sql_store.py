"""The store on SQLAlchemy 2: SQLite by default, PostgreSQL by URL; the schema comes from Alembic.

Drafts (the whole draft as JSON, with the fields the queue filters on as columns, and a version for
optimistic concurrency), the append-only audit trail with its chain head, and API keys.

Every change of a draft is one transaction: a compare-and-swap on the version plus the audit events.
Writers are serialised on the audit chain's head row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
takes the write lock at ``BEGIN IMMEDIATE``). Database errors become ``StoreUnavailable``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, Integer, String, Text, create_engine, event, func, or_, select, text, update,
)  # fmt: skip
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from service.errors import Conflict, StoreUnavailable
from service.incidents.models import AlertRecord, Incident, IncidentStatus, Signal
from service.models import Draft, DraftStatus
from service.review.audit import AuditEntry, AuditEvent, event_hash
from service.review.queue import DraftFilter, DraftPage

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    pass


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    issue_type: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16), index=True)
    severity_rank: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), index=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    incident_id: Mapped[str | None] = mapped_column(String(40), index=True)


class SignalRow(Base):
    __tablename__ = "signals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    public: Mapped[bool] = mapped_column(Boolean)
    issue_type: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    reach: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[list[float]] = mapped_column(JSON)
    draft_id: Mapped[str | None] = mapped_column(String(40), index=True)
    incident_id: Mapped[str | None] = mapped_column(String(40), index=True)
    link_score: Mapped[float | None] = mapped_column(Float)


class AlertRow(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    incident_id: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditRow(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    draft_id: Mapped[str | None] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    text_hash: Mapped[str | None] = mapped_column(String(64))
    prompt_refs: Mapped[dict[str, str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _utc(dt: datetime | None) -> datetime | None:
    """In UTC: SQLite drops the offset of what it stores (so everything goes in as UTC), PostgreSQL
    answers in the session's time zone."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _alert_record(row: AlertRow) -> AlertRecord:
    """The stored alert, with the incident that has it now (kept in its own column, not the payload)."""
    return AlertRecord.model_validate({**row.payload, "incident_id": row.incident_id})


def _event(row: AuditRow) -> AuditEvent:
    return AuditEvent(
        seq=row.seq, draft_id=row.draft_id, actor=row.actor, role=row.role, action=row.action,
        from_state=row.from_state, to_state=row.to_state, note=row.note, text_hash=row.text_hash,
        prompt_refs=row.prompt_refs or {}, at=_utc(row.at), prev_hash=row.prev_hash, hash=row.hash,
    )  # fmt: skip


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock now: no lost updates

    return engine


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (safe to run from several processes at once)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(724100)"))
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(724100)"))
            conn.commit()


class SqlStore:
    """DraftStore, AuditLog and KeyStore in one database."""

    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        try:
            self.engine = make_engine(url)
            if run_migrations:
                migrate(self.engine)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot open the store: {exc.__class__.__name__}: {str(exc)[:200]}") from exc
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self.dialect = self.engine.dialect.name

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        try:
            with self._session.begin() as s:
                yield s
        except IntegrityError as exc:
            raise Conflict(f"the change conflicts with another one: {exc.__class__.__name__}") from exc
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"the store failed: {exc.__class__.__name__}") from exc

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self.engine) as s:
                yield s
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"the store failed: {exc.__class__.__name__}") from exc

    # ------------------------------------------------------------ audit chain

    def _append(self, s: Session, entries: Sequence[AuditEntry]) -> None:
        head = s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one()
        seq, prev = head.seq, head.hash
        for entry in entries:
            seq += 1
            h = event_hash(seq, entry, prev)
            s.add(AuditRow(seq=seq, prev_hash=prev, hash=h, **entry.model_dump()))
            prev = h
        head.seq, head.hash = seq, prev

    def audit(self, draft_id: str | None = None) -> list[AuditEvent]:
        with self._read() as s:
            q = select(AuditRow).order_by(AuditRow.seq)
            if draft_id is not None:
                q = q.where(AuditRow.draft_id == draft_id)
            return [_event(r) for r in s.scalars(q)]

    def audit_head(self) -> tuple[int, str]:
        with self._read() as s:
            head = s.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1)).scalar_one()
            return head.seq, head.hash

    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        with self._tx() as s:
            self._append(s, entries)

    # ------------------------------------------------------------ drafts

    def _row_values(self, draft: Draft) -> dict[str, Any]:
        return {
            "status": draft.status.value, "version": draft.version,
            "issue_type": draft.classification.issue_type, "severity": draft.classification.severity.value,
            "severity_rank": draft.classification.severity.rank, "language": draft.classification.language.value,
            "channel": draft.complaint.channel.value, "deadline": draft.deadline, "created_at": draft.created_at,
            "kind": draft.kind.value, "incident_id": draft.incident_id,
            "payload": draft.model_dump(mode="json", exclude={"sources": {"__all__": {"facts", "text"}}}),
        }  # fmt: skip

    def add(self, draft: Draft, events: Sequence[AuditEntry] = ()) -> None:
        with self._tx() as s:
            s.add(DraftRow(id=draft.id, updated_at=draft.created_at, **self._row_values(draft)))
            s.flush()
            self._append(s, events)

    def save(self, draft: Draft, *, expected_version: int, events: Sequence[AuditEntry], now: datetime) -> None:
        """Write draft (whose version is expected_version + 1) only if nobody changed it meanwhile."""
        with self._tx() as s:
            values = self._row_values(draft)
            result = s.execute(
                update(DraftRow)
                .where(DraftRow.id == draft.id, DraftRow.version == expected_version)
                .values(updated_at=now, **values)
            )
            if result.rowcount != 1:
                raise Conflict(
                    "the draft changed while you were acting on it; reload it and try again",
                    draft_id=draft.id,
                )
            self._append(s, events)

    def replace(self, old: Draft, *, expected_version: int, new: Draft, events: Sequence[AuditEntry],
                now: datetime) -> None:  # fmt: skip
        """Supersede old (compare-and-swap on its version) and store new, in one transaction."""
        with self._tx() as s:
            result = s.execute(
                update(DraftRow)
                .where(DraftRow.id == old.id, DraftRow.version == expected_version)
                .values(updated_at=now, **self._row_values(old))
            )
            if result.rowcount != 1:
                raise Conflict("the draft changed while you were acting on it; reload it and try again", draft_id=old.id)
            s.add(DraftRow(id=new.id, updated_at=now, **self._row_values(new)))
            s.flush()
            self._append(s, events)

    def get(self, draft_id: str) -> Draft | None:
        with self._read() as s:
            row = s.get(DraftRow, draft_id)
        return Draft.model_validate(row.payload) if row else None

    def list(self, f: DraftFilter) -> DraftPage:
        with self._read() as s:
            q = select(DraftRow)
            for col, value in (
                (DraftRow.status, f.status), (DraftRow.severity, f.severity), (DraftRow.issue_type, f.issue_type),
                (DraftRow.language, f.language), (DraftRow.channel, f.channel),
            ):  # fmt: skip
                if value is not None:
                    q = q.where(col == value)
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(
                q.order_by(DraftRow.deadline.asc(), DraftRow.severity_rank.desc(), DraftRow.created_at.asc())
                .limit(f.limit).offset(f.offset)
            ).all()
            counts = dict(s.execute(select(DraftRow.status, func.count()).group_by(DraftRow.status)).all())
        return DraftPage(
            items=[Draft.model_validate(r.payload) for r in rows], total=total,
            counts={st.value: int(counts.get(st.value, 0)) for st in DraftStatus}, limit=f.limit, offset=f.offset,
        )  # fmt: skip

    def all_drafts(self, status: DraftStatus | None = None) -> Iterator[Draft]:
        with self._read() as s:
            q = select(DraftRow).order_by(DraftRow.created_at)
            if status is not None:
                q = q.where(DraftRow.status == status.value)
            for row in s.scalars(q):
                yield Draft.model_validate(row.payload)

    def incident_drafts(self, incident_id: str) -> list[Draft]:
        with self._read() as s:
            rows = s.scalars(select(DraftRow).where(DraftRow.incident_id == incident_id).order_by(DraftRow.created_at))
            return [Draft.model_validate(r.payload) for r in rows]

    # ------------------------------------------------------------ signals, alerts, incidents

    def add_signal(self, signal: Signal) -> None:
        values = signal.model_dump(exclude={"embedding", "at", "received_at"})
        with self._tx() as s:
            s.add(SignalRow(embedding=signal.embedding, at=_utc(signal.at), received_at=_utc(signal.received_at), **values))

    def _signal(self, r: SignalRow) -> Signal:
        return Signal(
            id=r.id, at=_utc(r.at), received_at=_utc(r.received_at), channel=r.channel, public=r.public,
            issue_type=r.issue_type, severity=r.severity, language=r.language, reach=r.reach, text=r.text,
            embedding=r.embedding or [], draft_id=r.draft_id, incident_id=r.incident_id, link_score=r.link_score,
        )  # fmt: skip

    def signals(self, *, since: datetime | None = None, until: datetime | None = None,
                incident_id: str | None = None, received_since: datetime | None = None) -> list[Signal]:  # fmt: skip
        """Signals in event-time order (ties by arrival), optionally in [since, until), of one incident, or
        received at or after ``received_since``."""
        with self._read() as s:
            q = select(SignalRow).order_by(SignalRow.at, SignalRow.received_at, SignalRow.id)
            if received_since is not None:
                q = q.where(SignalRow.received_at >= _utc(received_since))
            if since is not None:
                q = q.where(SignalRow.at >= _utc(since))
            if until is not None:
                q = q.where(SignalRow.at < _utc(until))
            if incident_id is not None:
                q = q.where(SignalRow.incident_id == incident_id)
            return [self._signal(r) for r in s.scalars(q)]

    def signals_by_id(self, ids: Sequence[str]) -> list[Signal]:
        with self._read() as s:
            return [self._signal(r) for r in s.scalars(select(SignalRow).where(SignalRow.id.in_(list(ids))).order_by(SignalRow.at))]

    def last_signal_at(self) -> datetime | None:
        with self._read() as s:
            return _utc(s.scalar(select(func.max(SignalRow.at))))

    def link_signals(self, incident_id: str, scores: dict[str, float]) -> None:
        with self._tx() as s:
            for ident, score in scores.items():  # never taking a complaint from another incident
                s.execute(update(SignalRow).where(SignalRow.id == ident, SignalRow.incident_id.is_(None))
                          .values(incident_id=incident_id, link_score=score))  # fmt: skip

    def count_linked(self, incident_id: str) -> int:
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(SignalRow).where(SignalRow.incident_id == incident_id)) or 0)

    def add_alert(self, alert: AlertRecord) -> bool:
        """Store an alert unless one with its id exists (a replay finds the same alerts again)."""
        values = {"id": alert.id, "detected_at": _utc(alert.detected_at), "incident_id": alert.incident_id,
                  "payload": alert.model_dump(mode="json")}  # fmt: skip
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        with self._tx() as s:  # two workers may find the same alert at once: one insert wins, quietly
            stmt = insert(AlertRow).values(**values).on_conflict_do_nothing(index_elements=["id"]).returning(AlertRow.id)
            return s.execute(stmt).first() is not None

    def get_alert(self, alert_id: str) -> AlertRecord | None:
        with self._read() as s:
            row = s.get(AlertRow, alert_id)
        return _alert_record(row) if row else None

    def claim_alert(self, alert_id: str, incident_id: str) -> bool:
        """Give the alert to the incident unless another open incident has it: one compare-and-set, so two
        requests cannot both take one alert. True when the incident has it now."""
        resolved = select(IncidentRow.id).where(IncidentRow.status == IncidentStatus.resolved.value)
        free = or_(AlertRow.incident_id.is_(None), AlertRow.incident_id == incident_id, AlertRow.incident_id.in_(resolved))
        with self._tx() as s:
            result = s.execute(update(AlertRow).where(AlertRow.id == alert_id, free).values(incident_id=incident_id))
        return bool(result.rowcount)

    def release_alert(self, alert_id: str, incident_id: str, previous: str | None) -> None:
        """Undo a claim that the incident could not record (it was resolved meanwhile)."""
        with self._tx() as s:
            s.execute(update(AlertRow).where(AlertRow.id == alert_id, AlertRow.incident_id == incident_id)
                      .values(incident_id=previous))  # fmt: skip

    def alerts(self, *, since: datetime | None = None, limit: int = 100) -> list[AlertRecord]:
        with self._read() as s:
            q = select(AlertRow).order_by(AlertRow.detected_at.desc()).limit(limit)
            if since is not None:
                q = q.where(AlertRow.detected_at >= _utc(since))
            return [_alert_record(r) for r in s.scalars(q)]

    def add_incident(self, incident: Incident) -> None:
        with self._tx() as s:
            s.add(IncidentRow(id=incident.id, status=incident.status.value, version=incident.version,
                              created_at=incident.created_at, payload=incident.model_dump(mode="json")))  # fmt: skip

    def save_incident(self, incident: Incident, *, expected_version: int) -> None:
        with self._tx() as s:
            result = s.execute(
                update(IncidentRow)
                .where(IncidentRow.id == incident.id, IncidentRow.version == expected_version)
                .values(status=incident.status.value, version=incident.version, payload=incident.model_dump(mode="json"))
            )
            if result.rowcount != 1:
                raise Conflict("the incident changed while you were acting on it; reload it and try again",
                               incident_id=incident.id)  # fmt: skip

    def get_incident(self, incident_id: str) -> Incident | None:
        with self._read() as s:
            row = s.get(IncidentRow, incident_id)
        return Incident.model_validate(row.payload) if row else None

    def incidents(self, *, open_only: bool = False) -> list[Incident]:
        with self._read() as s:
            q = select(IncidentRow).order_by(IncidentRow.created_at.desc())
            if open_only:
                q = q.where(IncidentRow.status != IncidentStatus.resolved.value)
            return [Incident.model_validate(r.payload) for r in s.scalars(q)]

    # ------------------------------------------------------------ keys

    def add_key(self, *, key_id: str, name: str, role: str, key_hash: str, prefix: str, now: datetime,
                events: Sequence[AuditEntry] = ()) -> None:  # fmt: skip
        with self._tx() as s:
            s.add(ApiKeyRow(id=key_id, name=name, role=role, key_hash=key_hash, prefix=prefix, created_at=now))
            s.flush()
            self._append(s, events)

    def find_key(self, key_hash: str) -> ApiKeyRow | None:
        with self._read() as s:
            return s.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash)).first()

    def list_keys(self) -> list[ApiKeyRow]:
        with self._read() as s:
            return list(s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)))

    def count_keys(self) -> int:
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(ApiKeyRow)) or 0)

    def revoke_key(self, key_id: str, *, now: datetime, events: Sequence[AuditEntry] = ()) -> bool:
        with self._tx() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = now
                self._append(s, events)
            return True

    def ping(self) -> None:
        with self._read() as s:
            s.execute(text("SELECT 1"))

