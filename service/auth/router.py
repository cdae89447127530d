"""Admin: create, list and revoke API keys over HTTP (the CLI does the same)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, StringConstraints

from service.auth.keys import Role, create_key, revoke_key
from service.deps import AdminDep, ServicesDep

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
    role: Role


class KeyCreated(BaseModel):
    id: str
    name: str
    role: Role
    key: str  # shown once; only its hash is stored


class KeyRead(BaseModel):
    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
def create(body: KeyCreate, services: ServicesDep, who: AdminDep) -> KeyCreated:
    k = create_key(services.store, name=body.name, role=body.role, now=services.clock.now(), by=who.actor)
    return KeyCreated(id=k.id, name=k.name, role=k.role, key=k.secret)


@router.get("", response_model=list[KeyRead])
def list_keys(services: ServicesDep, _: AdminDep) -> list[KeyRead]:
    return [KeyRead.model_validate(r, from_attributes=True) for r in services.store.list_keys()]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(key_id: str, services: ServicesDep, who: AdminDep) -> None:
    revoke_key(services.store, key_id, now=services.clock.now(), by=who.actor)
