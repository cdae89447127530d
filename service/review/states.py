"""The draft lifecycle, as one table. Any transition not in it is a 409."""

from __future__ import annotations

from service.errors import InvalidTransition
from service.models import DraftStatus

TRANSITIONS: dict[DraftStatus, frozenset[DraftStatus]] = {
    DraftStatus.pending_review: frozenset({DraftStatus.approved, DraftStatus.rejected, DraftStatus.superseded}),
    DraftStatus.approved: frozenset({DraftStatus.sent}),
    DraftStatus.rejected: frozenset(),
    DraftStatus.superseded: frozenset(),
    DraftStatus.sent: frozenset(),
}


def ensure_transition(src: DraftStatus, dst: DraftStatus) -> None:
    if dst not in TRANSITIONS[src]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[src])) or "nothing (final state)"
        raise InvalidTransition(
            f"a draft that is {src.value} cannot become {dst.value}; from {src.value} it can become: {allowed}",
            current_status=src.value,
        )
