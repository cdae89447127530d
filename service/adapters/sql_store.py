"""The draft store on SQLAlchemy 2: SQLite by default, PostgreSQL by URL.

A draft is one row: the fields the review queue filters on as columns, the whole draft as JSON.
Database errors become ``StoreUnavailable``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, String, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from service.errors import StoreUnavailable
from service.models import Draft


class Base(DeclarativeBase):
    pass


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    issue_type: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16), index=True)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class SqlDraftStore:
    def __init__(self, url: str) -> None:
        u = make_url(url)
        if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._engine = create_engine(url, pool_pre_ping=True)
            Base.metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot open the draft store: {exc.__class__.__name__}") from exc
        self._session = sessionmaker(self._engine, expire_on_commit=False)

    def add(self, draft: Draft) -> None:
        row = DraftRow(
            id=draft.id,
            status=draft.status.value,
            issue_type=draft.classification.issue_type,
            severity=draft.classification.severity.value,
            language=draft.classification.language.value,
            channel=draft.complaint.channel.value,
            deadline=draft.deadline,
            created_at=draft.created_at,
            payload=draft.model_dump(mode="json", exclude={"sources": {"__all__": {"facts", "text"}}}),
        )
        try:
            with self._session.begin() as s:
                s.add(row)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"could not store the draft: {exc.__class__.__name__}") from exc

    def get(self, draft_id: str) -> Draft | None:
        try:
            with Session(self._engine) as s:
                row = s.scalars(select(DraftRow).where(DraftRow.id == draft_id)).first()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"could not read the draft: {exc.__class__.__name__}") from exc
        return Draft.model_validate(row.payload) if row else None

    def ping(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"draft store unreachable: {exc.__class__.__name__}") from exc
