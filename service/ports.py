"""The small interfaces the domain depends on. Adapters implement them; tests use fakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from service.models import Draft


class Embedder(Protocol):
    """Turns texts into unit-length vectors (cosine similarity = dot product)."""

    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass
class IndexRecord:
    id: str
    text: str
    embedding: list[float]
    metadata: dict[str, Any]


@dataclass
class IndexHit:
    id: str
    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


class PassageIndex(Protocol):
    """A vector store of named collections (``policy``, ``past_replies``)."""

    def query(
        self, collection: str, embedding: list[float], *, k: int, where: dict[str, Any] | None = None
    ) -> list[IndexHit]: ...

    def upsert(self, collection: str, records: Sequence[IndexRecord]) -> None: ...

    def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    def hashes(self, collection: str) -> dict[str, str]:
        """id -> content hash of every record in the collection."""
        ...

    def ping(self) -> None: ...


class DraftStore(Protocol):
    def add(self, draft: Draft) -> None: ...

    def get(self, draft_id: str) -> Draft | None: ...

    def ping(self) -> None: ...


class ChatModel(Protocol):
    """A chat model behind an OpenAI-compatible API."""

    model: str

    def complete(self, messages: Sequence[tuple[str, str]]) -> str:
        """Send (role, content) messages; return the assistant's text. Raises UpstreamError."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...
