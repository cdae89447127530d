"""Alembic environment: runs on the connection the store hands over (never reads a URL itself)."""

from __future__ import annotations

from alembic import context

from service.adapters.sql_store import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through service.adapters.sql_store.migrate or `tenang db upgrade`")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
