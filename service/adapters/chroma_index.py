"""The vector store: Chroma, persistent on disk by default or a Chroma server when a URL is set.

Embeddings are always passed explicitly (Chroma's default embedding function would download a model).
Chroma's errors become ``IndexUnavailable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from service.errors import IndexUnavailable
from service.ports import IndexHit, IndexRecord



class ChromaIndex:
    def __init__(self, *, path: Path | None = None, url: str | None = None) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaClientSettings

        client_settings = ChromaClientSettings(anonymized_telemetry=False)
        try:
            if url:
                u = urlparse(url)
                self._client = chromadb.HttpClient(
                    host=u.hostname or "127.0.0.1",
                    port=u.port or (443 if u.scheme == "https" else 8000),
                    ssl=u.scheme == "https",
                    settings=client_settings,
                )
            else:
                assert path is not None
                Path(path).mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=client_settings)
        except Exception as exc:
            raise IndexUnavailable(f"cannot open the vector store: {exc}") from exc
        self._collections: dict[str, Any] = {}

    def _col(self, name: str) -> Any:
        if name not in self._collections:
            self._collections[name] = self._client.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        return self._collections[name]

    def query(
        self, collection: str, embedding: list[float], *, k: int, where: dict[str, Any] | None = None
    ) -> list[IndexHit]:
        try:
            res = self._col(collection).query(
                query_embeddings=[embedding], n_results=k, where=where,
                include=["documents", "metadatas", "distances"],
            )  # fmt: skip
        except Exception as exc:
            raise IndexUnavailable(f"vector store query failed: {exc}") from exc
        ids = res["ids"][0]
        docs = (res.get("documents") or [[]])[0] or [""] * len(ids)
        metas = (res.get("metadatas") or [[]])[0] or [{}] * len(ids)
        dists = (res.get("distances") or [[]])[0] or [1.0] * len(ids)
        return [
            IndexHit(id=i, text=d or "", score=max(0.0, 1.0 - float(dist)), metadata=dict(m or {}))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=False)
        ]

    def upsert(self, collection: str, records: Sequence[IndexRecord]) -> None:
        if not records:
            return
        try:
            self._col(collection).upsert(
                ids=[r.id for r in records],
                embeddings=[r.embedding for r in records],
                documents=[r.text for r in records],
                metadatas=[r.metadata for r in records],
            )
        except Exception as exc:
            raise IndexUnavailable(f"vector store write failed: {exc}") from exc

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        if ids:
            try:
                self._col(collection).delete(ids=list(ids))
            except Exception as exc:
                raise IndexUnavailable(f"vector store delete failed: {exc}") from exc

    def hashes(self, collection: str) -> dict[str, str]:
        try:
            got = self._col(collection).get(include=["metadatas"])
        except Exception as exc:
            raise IndexUnavailable(f"vector store read failed: {exc}") from exc
        return {i: str((m or {}).get("content_sha256", "")) for i, m in zip(got["ids"], got["metadatas"], strict=False)}

    def ping(self) -> None:
        try:
            self._client.heartbeat()
            self._col("policy").count()
        except Exception as exc:
            raise IndexUnavailable(f"vector store unreachable: {exc}") from exc
