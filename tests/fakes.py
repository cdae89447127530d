"""Fakes at the seams (Protocol implementations), not patches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from service.errors import IndexUnavailable
from service.ports import Embedder, IndexHit, IndexRecord


class CachingEmbedder:
    """Wraps a real embedder; remembers texts it has embedded (the tests repeat many)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name = inner, inner.name
        self._memo: dict[str, list[float]] = {}
        self._layers: dict[tuple[int, str], list[float]] = {}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.inner.embed(missing), strict=True))
        return [self._memo[t] for t in texts]

    def embed_layers(self, texts: Sequence[str], layers: Sequence[int]) -> dict[int, list[list[float]]]:
        missing = [t for t in dict.fromkeys(texts) if any((layer, t) not in self._layers for layer in layers)]
        if missing:
            for layer, vectors in self.inner.embed_layers(missing, layers).items():
                self._layers.update({(layer, t): v for t, v in zip(missing, vectors, strict=True)})
        return {layer: [self._layers[(layer, t)] for t in texts] for layer in layers}


class DownIndex:
    """A vector store that cannot be reached."""

    def _down(self, *_: Any, **__: Any) -> Any:
        raise IndexUnavailable("connection refused (test)")

    def query(self, collection: str, embedding: list[float], *, k: int, where: Any = None) -> list[IndexHit]:
        return self._down()

    def upsert(self, collection: str, records: Sequence[IndexRecord]) -> None:
        self._down()

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        self._down()

    def hashes(self, collection: str) -> dict[str, str]:
        return self._down()

    def ping(self) -> None:
        self._down()


class FrozenClock:
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 5, 4, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at
