"""Ingest a knowledge pack into the vector store, idempotently.

Stable ids (``policy:<file>#<chunk>``, ``reply:<id>``), a content hash per record, upsert of what
changed, deletion of what vanished from the pack, and counts of each. A second run changes nothing.
Records that did not come from the pack's files (later: approved replies) are never deleted here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from service.drafting.retrieve import PAST_REPLIES, POLICY, issue_key
from service.knowledge.pack import Pack, Policy
from service.ports import Embedder, IndexRecord, PassageIndex

log = logging.getLogger(__name__)

PACK_PREFIXES = {POLICY: "policy:", PAST_REPLIES: "reply:"}
SECTION_RE = re.compile(r"^##\s+", re.MULTILINE)


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


@dataclass
class IngestReport:
    collections: dict[str, Counts] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.collections.values())

    def summary(self) -> str:
        parts = [
            f"{name}: {c.added} added, {c.updated} updated, {c.deleted} deleted, {c.unchanged} unchanged"
            for name, c in self.collections.items()
        ]
        tail = "" if self.changed else " (nothing changed)"
        return "; ".join(parts) + tail


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def policy_chunks(policy: Policy) -> list[tuple[str, str]]:
    """(id, text) per section of the policy body; the title leads each chunk."""
    sections = [s.strip() for s in SECTION_RE.split(policy.body) if s.strip()]
    return [(f"policy:{policy.id}.md#{i}", f"{policy.title}\n\n{s}") for i, s in enumerate(sections)]


def _policy_records(pack: Pack) -> list[tuple[str, str, dict[str, object]]]:
    out = []
    for p in pack.policies:
        facts = {f"facts_{lang.value}": json.dumps(p.facts.get(lang, []), ensure_ascii=False) for lang in p.languages}
        base: dict[str, object] = {
            "policy_id": p.id, "title": p.title, "path": p.path, "effective_date": p.effective_date.isoformat(),
            **{issue_key(it): True for it in p.issue_types}, **{f"lang_{lang.value}": True for lang in p.languages},
            **facts,
        }  # fmt: skip
        for cid, text in policy_chunks(p):
            out.append((cid, text, {**base, "content_sha256": _sha(text, json.dumps(base, sort_keys=True))}))
    return out


def _reply_records(pack: Pack) -> list[tuple[str, str, dict[str, object]]]:
    out = []
    for r in pack.past_replies:
        md: dict[str, object] = {
            "issue_type": r.issue_type, "language": r.language.value, "channel": r.channel.value,
            "public": r.public, "complaint": r.complaint[:500], "title": f"Approved reply ({r.issue_type}, {r.channel.value})",
            "source": "pack",
        }  # fmt: skip
        # The embedding is of the complaint: a new complaint finds replies to similar complaints.
        out.append((f"reply:{r.id}", r.reply, {**md, "content_sha256": _sha(r.complaint, r.reply, json.dumps(md, sort_keys=True))}))
    return out


def ingest(
    pack: Pack,
    *,
    index: PassageIndex,
    embedder: Embedder,
    progress: Callable[[str, int], None] | None = None,
) -> IngestReport:
    report = IngestReport()
    complaints = {f"reply:{r.id}": r.complaint for r in pack.past_replies}
    model = getattr(embedder, "name", "")  # a different embedding model re-embeds everything
    for collection, records in ((POLICY, _policy_records(pack)), (PAST_REPLIES, _reply_records(pack))):
        counts = Counts()
        existing = {k: v for k, v in index.hashes(collection).items() if k.startswith(PACK_PREFIXES[collection])}
        todo = []
        for rid, text, md in records:
            md["content_sha256"] = _sha(str(md["content_sha256"]), model)
            old = existing.get(rid)
            if old == md["content_sha256"]:
                counts.unchanged += 1
            else:
                todo.append((rid, text, md))
                if old is None:
                    counts.added += 1
                else:
                    counts.updated += 1
        if todo:
            to_embed = [complaints.get(rid, text) for rid, text, _ in todo]
            vectors = embedder.embed(to_embed)
            index.upsert(
                collection,
                [IndexRecord(rid, text, vec, md) for (rid, text, md), vec in zip(todo, vectors, strict=True)],
            )
        stale = sorted(set(existing) - {rid for rid, _, _ in records})
        index.delete(collection, stale)
        counts.deleted = len(stale)
        report.collections[collection] = counts
        if progress:
            progress(collection, len(records))
        log.info("ingest %s added=%d updated=%d deleted=%d unchanged=%d", collection,
                 counts.added, counts.updated, counts.deleted, counts.unchanged)  # fmt: skip
    return report
