"""Retrieve policy passages and past approved replies for a complaint from the vector store.

Filters by issue type and language first and widens the filter when too little comes back; hits
below the relevance cut-off are dropped. The embedding is computed once by the caller.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from service.models import Language, Source
from service.ports import IndexHit, PassageIndex

log = logging.getLogger(__name__)

POLICY = "policy"
PAST_REPLIES = "past_replies"


def issue_key(issue_type: str) -> str:
    return f"it_{issue_type}"


def _query_with_fallback(
    index: PassageIndex,
    collection: str,
    embedding: list[float],
    filters: list[dict[str, Any] | None],
    *,
    k: int,
    min_score: float,
) -> list[IndexHit]:
    for where in filters:
        hits = [h for h in index.query(collection, embedding, k=k, where=where) if h.score >= min_score]
        if hits:
            return hits
    return []


def _source(hit: IndexHit, kind: str, language: Language) -> Source:
    md = hit.metadata
    facts = json.loads(md.get(f"facts_{language.value}", "[]")) if kind == POLICY else []
    title = md.get("title") or md.get("issue_type", "")
    snippet = hit.text if len(hit.text) <= 280 else hit.text[:277].rsplit(" ", 1)[0] + "..."
    return Source(
        id=hit.id, kind=kind if kind == POLICY else "past_reply", title=str(title),
        snippet=snippet, score=round(hit.score, 3), facts=facts, text=hit.text,
    )  # fmt: skip


def retrieve(
    *,
    index: PassageIndex,
    embedding: list[float],
    issue_type: str,
    language: Language,
    k: int,
    min_score: float,
) -> list[Source]:
    """Top-k policy chunks and past replies, most relevant first."""
    key = issue_key(issue_type)
    policy_hits = _query_with_fallback(
        index, POLICY, embedding,
        [{"$and": [{key: True}, {f"lang_{language.value}": True}]}, {key: True}, None],
        k=k, min_score=min_score,
    )  # fmt: skip
    reply_hits = _query_with_fallback(
        index, PAST_REPLIES, embedding,
        [{"$and": [{"issue_type": issue_type}, {"language": language.value}]}, {"issue_type": issue_type},
         {"language": language.value}],
        k=k, min_score=min_score,
    )  # fmt: skip
    log.info(
        "retrieved policy=%s replies=%s",
        [(h.id, round(h.score, 2)) for h in policy_hits],
        [(h.id, round(h.score, 2)) for h in reply_hits],
    )
    return [_source(h, POLICY, language) for h in policy_hits] + [
        _source(h, PAST_REPLIES, language) for h in reply_hits
    ]
