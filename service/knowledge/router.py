"""GET /v1/knowledge/search: what the vector store returns for a query."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from service.deps import AgentDep, ServicesDep
from service.drafting.retrieve import PAST_REPLIES, POLICY
from service.errors import IndexUnavailable

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])


class SearchHit(BaseModel):
    id: str
    kind: str
    title: str
    snippet: str
    score: float


class SearchPage(BaseModel):
    query: str
    items: list[SearchHit]


@router.get("/search", response_model=SearchPage)
def search(
    services: ServicesDep,
    _: AgentDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="Free text to search for.")],
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SearchPage:
    if services.index is None:
        raise IndexUnavailable("the vector store is not available")
    vec = services.embedder.embed([q])[0]
    items: list[SearchHit] = []
    for collection, kind in ((POLICY, "policy"), (PAST_REPLIES, "past_reply")):
        for h in services.index.query(collection, vec, k=k):
            title = str(h.metadata.get("title", ""))
            items.append(SearchHit(id=h.id, kind=kind, title=title, snippet=h.text[:280], score=round(h.score, 3)))
    items.sort(key=lambda h: h.score, reverse=True)
    return SearchPage(query=q, items=items[:k])
