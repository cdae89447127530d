"""The plain baselines of ``tenang eval classify --baselines``: trained on the fold's own lines, C chosen
by cross-validation on them, never on the scored lines."""

from __future__ import annotations

import numpy as np
import pytest

from evals import classify
from evals.classify import BASELINE_C, baseline_predictions

WORDS = {"late": ["parcel late", "late again", "still late", "late delivery", "order late", "late rider"],
         "refund": ["refund please", "my refund", "refund missing", "want refund", "refund now", "refund money"]}  # fmt: skip


def _lines() -> tuple[list[str], list[str], np.ndarray]:
    texts = [t for texts in WORDS.values() for t in texts]
    labels = [lab for lab, texts in WORDS.items() for _ in texts]
    rng = np.random.default_rng(0)
    # sentence "embeddings" that carry the label in one coordinate, plus noise
    vecs = rng.normal(0, 0.1, (len(texts), 8)) + np.array([[1.0 if lab == "late" else -1.0] + [0] * 7 for lab in labels])
    return texts, labels, vecs


def test_each_baseline_learns_from_its_own_features_with_a_c_from_the_grid() -> None:
    texts, labels, vecs = _lines()
    scored = ["is my refund coming", "why so late"]
    # the scored lines' vectors point the other way than their words: each baseline must read only its own
    score_vecs = np.array([[1.0] + [0] * 7, [-1.0] + [0] * 7])
    out = baseline_predictions(texts, labels, vecs, scored, score_vecs)
    assert out["tfidf_lr"][0] == ["refund", "late"]
    assert out["minilm_lr"][0] == ["late", "refund"]
    assert all(c in BASELINE_C for _, c in out.values())


def test_c_is_chosen_from_the_grid_by_cross_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    texts, labels, vecs = _lines()
    monkeypatch.setattr(classify, "BASELINE_C", (100.0,))
    out = baseline_predictions(texts, labels, vecs, ["my refund"], vecs[:1])
    assert out["tfidf_lr"][1] == out["minilm_lr"][1] == 100.0  # not the default C 1


def test_a_label_too_small_to_hold_out_falls_back_to_the_default_c() -> None:
    texts, labels, vecs = _lines()
    texts, labels, vecs = [*texts, "lost card"], [*labels, "card"], np.vstack([vecs, np.zeros((1, 8))])
    out = baseline_predictions(texts, labels, vecs, ["lost card"], np.zeros((1, 8)))
    assert out["tfidf_lr"][1] == out["minilm_lr"][1] == 1.0
