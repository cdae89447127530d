"""The small interfaces the domain depends on. Adapters implement them; tests use fakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from service.models import Draft
from service.review.audit import AuditEntry, AuditEvent
from service.review.queue import DraftFilter, DraftPage


class Embedder(Protocol):
    """Turns texts into unit-length vectors (cosine similarity = dot product)."""

    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_layers(self, texts: Sequence[str], layers: Sequence[int]) -> dict[int, list[list[float]]]:
        """The same pooling over earlier transformer layers' states (1 is the first, -1 the last: ``embed``'s
        vectors), every layer from one run of the model."""
        ...


class EncoderTuner(Protocol):
    """Fine-tunes the embedding model on labelled examples, for the issue-type classifier."""

    recipe: str  # what changes the tuned model for the same examples (method, epochs, steps, seed)

    def tune(self, texts: Sequence[str], labels: Sequence[str]) -> tuple[str, Embedder]:
        """A reference to find the tuned model again (``load``), and the tuned model."""
        ...

    def load(self, ref: str) -> Embedder | None:
        """The model tuned before under ``ref``; None when it is gone."""
        ...


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
    """Drafts and their audit trail; every write is one transaction with its audit events."""

    def add(self, draft: Draft, events: Sequence[AuditEntry] = ()) -> None: ...

    def get(self, draft_id: str) -> Draft | None: ...

    def save(self, draft: Draft, *, expected_version: int, events: Sequence[AuditEntry], now: datetime) -> None:
        """Write the draft only if its stored version is still expected_version; else raise Conflict."""
        ...

    def replace(
        self, old: Draft, *, expected_version: int, new: Draft, events: Sequence[AuditEntry], now: datetime
    ) -> None: ...

    def list(self, f: DraftFilter) -> DraftPage: ...

    def audit(self, draft_id: str | None = None) -> list[AuditEvent]: ...

    def audit_head(self) -> tuple[int, str]: ...

    def ping(self) -> None: ...


class ChatModel(Protocol):
    """A chat model behind an OpenAI-compatible API."""

    model: str

    def complete(self, messages: Sequence[tuple[str, str]]) -> str:
        """Send (role, content) messages; return the assistant's text. Raises UpstreamError."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...
