"""The audit trail: append-only events, each carrying the hash of the one before it.

``event_hash`` is sha256 over the previous hash and the event's canonical JSON, so editing any field of
any row, deleting a row or reordering rows breaks the chain at a place ``verify`` can name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

GENESIS = "0" * 64


class AuditEntry(BaseModel):
    """An event to append (the store gives it its sequence number and hashes)."""

    draft_id: str | None
    actor: str
    role: str
    action: str
    from_state: str | None = None
    to_state: str | None = None
    note: str | None = None
    text_hash: str | None = None
    prompt_refs: dict[str, str] = Field(default_factory=dict)
    at: datetime


class AuditEvent(AuditEntry):
    seq: int
    prev_hash: str
    hash: str


def text_hash(text: str | None) -> str | None:
    return hashlib.sha256(text.encode()).hexdigest() if text is not None else None


def canonical_time(at: datetime) -> str:
    """UTC, naive, microseconds: the same string whatever the database gives back."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def event_hash(seq: int, entry: AuditEntry, prev_hash: str) -> str:
    body: dict[str, Any] = {
        "seq": seq, "draft_id": entry.draft_id, "actor": entry.actor, "role": entry.role,
        "action": entry.action, "from_state": entry.from_state, "to_state": entry.to_state,
        "note": entry.note, "text_hash": entry.text_hash, "prompt_refs": entry.prompt_refs,
        "at": canonical_time(entry.at),
    }  # fmt: skip
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


@dataclass
class Verification:
    ok: bool
    checked: int
    problems: list[str]

    def summary(self) -> str:
        if self.ok:
            return f"audit trail verified: {self.checked} events, chain intact"
        return f"audit trail BROKEN ({len(self.problems)} problem(s) in {self.checked} events): " + "; ".join(self.problems[:10])


def verify(events: Iterable[AuditEvent], *, head: tuple[int, str] | None = None) -> Verification:
    """Check sequence numbers, links and hashes; ``head`` (last seq, last hash) catches a deleted tail."""
    problems: list[str] = []
    expected_seq, prev = 1, GENESIS
    n = 0
    for e in events:
        n += 1
        if e.seq != expected_seq:
            problems.append(f"event {expected_seq} is missing (next found: {e.seq})" if e.seq > expected_seq
                            else f"event {e.seq} appears out of order")  # fmt: skip
        if e.prev_hash != prev:
            problems.append(f"event {e.seq} does not link to the event before it")
        if event_hash(e.seq, e, e.prev_hash) != e.hash:
            problems.append(f"event {e.seq} was edited (its content no longer matches its hash)")
        expected_seq, prev = e.seq + 1, e.hash
    if head is not None and head[0] != expected_seq - 1:
        problems.append(f"the trail ends at event {expected_seq - 1} but {head[0]} were written: events were deleted")
    elif head is not None and head[1] != prev:
        problems.append(f"the last event's hash differs from the recorded head: event {head[0]} was changed")
    return Verification(ok=not problems, checked=n, problems=problems)
