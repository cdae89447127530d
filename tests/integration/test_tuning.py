"""The issue-type classifier's own copy of the embedding model, fine-tuned on labelled examples."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from service.adapters.tuning import EncoderTuner
from service.ports import Embedder

pytestmark = pytest.mark.integration

EXAMPLES = {
    "card_not_arrived": ["my new card still hasn't arrived", "the card you posted never came", "where is my debit card, it's been two weeks",
                         "card delivery is taking forever", "still waiting for the replacement card", "no card in the post yet"],
    "card_declined": ["my card was declined at the shop", "payment refused at checkout again", "why does my card keep getting rejected",
                      "the terminal said card declined", "couldn't pay for groceries, card refused", "card not accepted online"],
    "card_charged_twice": ["I was charged twice for one order", "double payment taken from my card", "the same purchase shows two times",
                           "you took the money twice", "duplicate charge on my statement", "billed two times for the same thing"],
}  # fmt: skip


def _separation(vectors: np.ndarray, labels: list[str]) -> float:
    """Mean cosine similarity within a label minus between labels (vectors are unit length)."""
    sims = vectors @ vectors.T
    same = np.equal.outer(labels, labels) & ~np.eye(len(labels), dtype=bool)
    other = ~np.equal.outer(labels, labels)
    return float(sims[same].mean() - sims[other].mean())


def test_tuning_pulls_the_labels_apart_and_is_kept_by_the_examples_hash(tmp_path: Path, embedder: Embedder) -> None:
    texts = [t for ts in EXAMPLES.values() for t in ts]
    labels = [lab for lab, ts in EXAMPLES.items() for _ in ts]
    tuner = EncoderTuner(tmp_path, epochs=1, min_steps=15)  # fewer steps than the service takes: quick
    ref, tuned = tuner.tune(texts, labels)
    base = np.asarray(embedder.embed(texts))
    after = np.asarray(tuned.embed(texts))
    assert np.allclose(np.linalg.norm(after, axis=1), 1.0, atol=1e-4)
    assert _separation(after, labels) > _separation(base, labels) + 0.1
    # an unseen complaint lands nearer its own label's examples than before tuning
    probe = "my card got declined when I tried to pay"
    v_base, v_after = np.asarray(embedder.embed([probe])[0]), np.asarray(tuned.embed([probe])[0])
    declined = [i for i, lab in enumerate(labels) if lab == "card_declined"]
    arrived = [i for i, lab in enumerate(labels) if lab == "card_not_arrived"]
    gap = lambda v, m: float((m[declined] @ v).mean() - (m[arrived] @ v).mean())  # noqa: E731
    assert gap(v_after, after) > gap(v_base, base)

    folder = tmp_path / "tuned" / ref
    stamp = os.stat(folder / "config.json").st_mtime_ns
    again_ref, again = tuner.tune(texts, labels)  # the same examples: found, not tuned again
    assert again_ref == ref and os.stat(folder / "config.json").st_mtime_ns == stamp
    assert np.allclose(np.asarray(again.embed([probe])[0]), v_after, atol=1e-5)
    assert tuner.key(texts[:-1], labels[:-1]) != ref  # other examples, another model
    assert tuner.load("tuned-missing") is None
    assert not list((tmp_path / "tuned").glob(".*"))  # no half-written folders left behind
