from itertools import product

import pytest

from service.errors import InvalidTransition
from service.models import DraftStatus as S
from service.review.states import TRANSITIONS, ensure_transition

ALLOWED = {
    (S.pending_review, S.approved), (S.pending_review, S.rejected), (S.pending_review, S.superseded),
    (S.approved, S.sent),
}  # fmt: skip


@pytest.mark.parametrize(("src", "dst"), list(product(S, S)))
def test_every_pair_of_states(src: S, dst: S) -> None:
    if (src, dst) in ALLOWED:
        ensure_transition(src, dst)
    else:
        with pytest.raises(InvalidTransition) as exc:
            ensure_transition(src, dst)
        assert exc.value.status == 409 and src.value in exc.value.detail


def test_the_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(S)
