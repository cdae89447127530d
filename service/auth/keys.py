"""API keys: random secrets shown once, stored as sha256 hashes, each with a role.

The secrets are 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from service.errors import Forbidden, KeyNotFound, Unauthorized
from service.review.audit import AuditEntry

KEY_PREFIX = "tn_"


class Role(StrEnum):
    agent = "agent"
    reviewer = "reviewer"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name and id (the actor in the audit trail) and its role."""

    key_id: str
    name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"{self.name} ({self.key_id})"

    def require(self, role: Role) -> None:
        if self.role.rank < role.rank:
            raise Forbidden(f"this needs the {role.value} role; the key {self.name!r} has {self.role.value}")


ANONYMOUS_ADMIN = Principal(key_id="auth-disabled", name="anonymous", role=Role.admin)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class CreatedKey:
    id: str
    name: str
    role: Role
    secret: str


def create_key(store, *, name: str, role: Role, now: datetime, by: str = "cli") -> CreatedKey:  # type: ignore[no-untyped-def]
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = "key_" + uuid.uuid4().hex[:12]
    event = AuditEntry(draft_id=None, actor=by, role=Role.admin.value, action="key_created",
                       note=f"{name} ({key_id}) as {role.value}", at=now)  # fmt: skip
    store.add_key(key_id=key_id, name=name, role=role.value, key_hash=hash_key(secret), prefix=secret[:8], now=now,
                  events=[event])  # fmt: skip
    return CreatedKey(key_id, name, role, secret)


def revoke_key(store, key_id: str, *, now: datetime, by: str = "cli") -> None:  # type: ignore[no-untyped-def]
    event = AuditEntry(draft_id=None, actor=by, role=Role.admin.value, action="key_revoked", note=key_id, at=now)
    if not store.revoke_key(key_id, now=now, events=[event]):
        raise KeyNotFound(f"no API key with id {key_id!r}")


def authenticate(store, secret: str | None) -> Principal:  # type: ignore[no-untyped-def]
    if not secret:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    row = store.find_key(hash_key(secret.strip()))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the API key is unknown or revoked")
    return Principal(key_id=row.id, name=row.name, role=Role(row.role))
