"""The n-gram features of the learned tone signals: each shipped set names its scheme and its weights fit
it, and a set whose scheme is unknown, or whose weights do not fit its scheme, is refused when it loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.linalg import norm

from service.errors import ConfigInvalid
from service.tone import learned
from service.tone.learned import HASH_FEATURES, ToneSignals, hashed_ngrams

TEXTS = ["Kakak nggak baca ya? Makanya lain kali teliti dulu.", "Mohon maaf ya Kak, kami cek sekarang."]


def test_joint_puts_characters_and_words_in_one_unit_vector() -> None:
    joint, split = hashed_ngrams(TEXTS), hashed_ngrams(TEXTS, "split")
    assert joint.shape == (2, HASH_FEATURES)
    assert np.allclose(norm(joint, axis=1), 1.0)
    # the same n-grams: every column set in the split characters or words is set in the joint space
    both = (split[:, :HASH_FEATURES] + split[:, HASH_FEATURES:]).tocsr()
    assert (both != 0).sum() == (joint != 0).sum() and ((both != 0) != (joint != 0)).nnz == 0


def test_split_gives_characters_and_words_a_unit_vector_each() -> None:
    split = hashed_ngrams(TEXTS, "split")
    assert split.shape == (2, 2 * HASH_FEATURES)
    chars, words = split[:, :HASH_FEATURES], split[:, HASH_FEATURES:]
    assert np.allclose(norm(chars, axis=1), 1.0) and np.allclose(norm(words, axis=1), 1.0)
    with pytest.raises(ValueError, match="unknown n-gram scheme 'bag'"):
        hashed_ngrams(TEXTS, "bag")


@pytest.mark.parametrize("name", sorted(p.stem for p in learned.MODEL_DIR.glob("*.json")))
def test_each_shipped_set_names_its_scheme_and_its_weights_fit_it(name: str) -> None:
    meta = json.loads((learned.MODEL_DIR / f"{name}.json").read_text(encoding="utf-8"))
    signals = ToneSignals.load(name)
    assert meta["ngrams"] == signals.ngrams
    width = {"joint": HASH_FEATURES, "split": 2 * HASH_FEATURES}[signals.ngrams]
    assert all(m.lex_coef.shape == (width,) for m in signals.signals)
    vectors = {layer: np.zeros(384) for layer in signals.layers}
    assert all(0 <= p <= 1 for p in signals.score(TEXTS[0], vectors).values())


def test_the_reply_signals_are_split_and_the_tweet_signals_joint() -> None:
    assert ToneSignals.load("reply-signals-id-v9").ngrams == "split"
    assert ToneSignals.load("reply-signals-en-v10").ngrams == "split"
    assert ToneSignals.load("tone-signals-v6").ngrams == "joint"
    indonesian = ToneSignals.load("reply-signals-id-v9")
    scolding, kind = (indonesian.score(t, np.zeros(384))["reply_hostile_id"] for t in TEXTS)
    assert scolding > kind


def test_a_set_with_an_unknown_scheme_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for suffix in (".json", ".npz"):
        shutil.copy(learned.MODEL_DIR / f"reply-signals-id-v9{suffix}", tmp_path / f"odd{suffix}")
    meta = json.loads((tmp_path / "odd.json").read_text(encoding="utf-8"))
    (tmp_path / "odd.json").write_text(json.dumps(meta | {"ngrams": "bag"}), encoding="utf-8")
    monkeypatch.setattr(learned, "MODEL_DIR", tmp_path)
    with pytest.raises(ConfigInvalid, match="unknown n-gram scheme 'bag'"):
        ToneSignals.load("odd")
    # a set whose weights were trained on the other scheme is refused too, not failed on every reply
    (tmp_path / "odd.json").write_text(json.dumps(meta | {"ngrams": "joint"}), encoding="utf-8")
    with pytest.raises(ConfigInvalid, match="do not fit the 'joint' scheme"):
        ToneSignals.load("odd")


def test_a_signal_reads_the_layer_its_set_names() -> None:
    """tone-signals-v6's irony model reads the embedding model's layer 4, the other two the sentence
    embedding: each probability moves with its own layer's vector only, and a bare sentence embedding is
    refused rather than read as layer 4."""
    signals = ToneSignals.load("tone-signals-v6")
    assert signals.layers == (-1, 4)
    assert {m.name: m.layer for m in signals.signals} == {"impolite": -1, "offensive": -1, "irony": 4}
    text = "Oh great, another delay. Love it."
    irony = next(m for m in signals.signals if m.name == "irony")
    towards = irony.sem_coef / np.linalg.norm(irony.sem_coef)  # the direction that raises irony most
    base = signals.score(text, {-1: np.zeros(384), 4: np.zeros(384)})
    moved4 = signals.score(text, {-1: np.zeros(384), 4: towards})
    moved_last = signals.score(text, {-1: towards, 4: np.zeros(384)})
    assert moved4["irony"] > base["irony"] and moved_last["irony"] == base["irony"]
    assert moved4["offensive"] == base["offensive"] and moved4["impolite"] == base["impolite"]
    with pytest.raises(ValueError, match="reads layer 4 of the embedding model"):
        signals.score(text, np.zeros(384))


def test_a_set_reading_a_layer_the_model_lacks_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for suffix in (".json", ".npz"):
        shutil.copy(learned.MODEL_DIR / f"tone-signals-v6{suffix}", tmp_path / f"odd{suffix}")
    meta = json.loads((tmp_path / "odd.json").read_text(encoding="utf-8"))
    meta["signals"]["irony"]["embedding_layer"] = 12
    (tmp_path / "odd.json").write_text(json.dumps(meta), encoding="utf-8")
    monkeypatch.setattr(learned, "MODEL_DIR", tmp_path)
    with pytest.raises(ConfigInvalid, match="irony read an embedding layer the model does not have"):
        ToneSignals.load("odd")
