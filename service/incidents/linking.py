"""Which open incident a complaint belongs to: its issue type must be one of the incident's, and it must be
close in meaning to what the incident is about (or, with ``any_type_threshold``, very close whatever its
issue type).

An incident's references are the embeddings of its title and public note, of the complaints of the alert
it was opened from, and of the complaints linked to it since (the most recent ``references`` of them), so
an incident learns how people describe it as they do. A complaint's score for an incident is its best
cosine similarity to any reference; it is linked to the incident that scores highest, if that score
reaches the threshold.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np


def unit(v: Sequence[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(a))
    return a / n if n else a


@dataclass
class OpenIncident:
    id: str
    issue_types: frozenset[str]
    fixed: list[np.ndarray] = field(default_factory=list)  # title, note, the alert's complaints
    linked: deque[np.ndarray] = field(default_factory=deque)

    def score(self, vec: np.ndarray) -> float:
        refs = [*self.fixed, *self.linked]
        return float(max(np.stack(refs) @ vec)) if refs else 0.0


class Linker:
    def __init__(self, threshold: float, references: int = 60, any_type_threshold: float | None = None) -> None:
        """``any_type_threshold``: a complaint this close to an incident is linked whatever its issue type
        (the classifier may file the same words under a neighbouring type); None: never."""
        self.threshold, self.references, self.any_type_threshold = threshold, references, any_type_threshold
        self.incidents: dict[str, OpenIncident] = {}

    def open(self, incident_id: str, issue_types: Iterable[str], references: Iterable[Sequence[float]]) -> None:
        self.incidents[incident_id] = OpenIncident(
            incident_id, frozenset(issue_types), [unit(r) for r in references], deque(maxlen=self.references)
        )

    def close(self, incident_id: str) -> None:
        self.incidents.pop(incident_id, None)

    def best(self, issue_type: str, embedding: Sequence[float]) -> tuple[str, float] | None:
        """The open incident this complaint belongs to, and its score; None when none is close enough."""
        if not embedding:
            return None
        vec = unit(embedding)
        scored = []
        for inc in self.incidents.values():
            score = inc.score(vec)
            need = self.threshold if issue_type in inc.issue_types else self.any_type_threshold
            if need is not None and score >= need:
                scored.append((score, inc.id))
        if not scored:
            return None
        score, ident = max(scored)
        return ident, score

    def add(self, incident_id: str, embedding: Sequence[float]) -> None:
        """A complaint was linked: it becomes a reference of its incident."""
        inc = self.incidents.get(incident_id)
        if inc is not None and embedding:
            inc.linked.append(unit(embedding))

    def link(self, issue_type: str, embedding: Sequence[float]) -> tuple[str, float] | None:
        found = self.best(issue_type, embedding)
        if found:
            self.add(found[0], embedding)
        return found


def backfill(
    linker: Linker, incident_id: str, earlier: Iterable[tuple[str, str, Sequence[float]]]
) -> list[tuple[str, float]]:
    """When an incident opens, link the earlier unlinked complaints (id, issue type, embedding; oldest
    first) that belong to it; returns (id, score) of each one linked."""
    out = []
    for ident, issue_type, embedding in earlier:
        found = linker.best(issue_type, embedding)
        if found and found[0] == incident_id:
            linker.add(incident_id, embedding)
            out.append((ident, found[1]))
    return out
