"""The n-gram features of the learned tone signals: each shipped set names its scheme, and a set whose
scheme is unknown is refused when it loads."""

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
    joint = hashed_ngrams(TEXTS)
    assert joint.shape == (2, HASH_FEATURES)
    assert np.allclose(norm(joint, axis=1), 1.0)


def test_split_gives_characters_and_words_a_unit_vector_each() -> None:
    split = hashed_ngrams(TEXTS, "split")
    assert split.shape == (2, 2 * HASH_FEATURES)
    chars, words = split[:, :HASH_FEATURES], split[:, HASH_FEATURES:]
    assert np.allclose(norm(chars, axis=1), 1.0) and np.allclose(norm(words, axis=1), 1.0)
    with pytest.raises(ValueError, match="unknown n-gram scheme 'bag'"):
        hashed_ngrams(TEXTS, "bag")


def test_each_shipped_set_scores_with_its_own_scheme() -> None:
    indonesian = ToneSignals.load("reply-signals-id-v9")
    assert indonesian.ngrams == "split" and ToneSignals.load("tone-signals-v5").ngrams == "joint"
    assert all(m.lex_coef.shape == (2 * HASH_FEATURES,) for m in indonesian.signals)
    scores = indonesian.score(TEXTS[0], np.zeros(384))
    assert scores["reply_hostile_id"] > indonesian.score(TEXTS[1], np.zeros(384))["reply_hostile_id"]


def test_a_set_with_an_unknown_scheme_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for suffix in (".json", ".npz"):
        shutil.copy(learned.MODEL_DIR / f"reply-signals-id-v9{suffix}", tmp_path / f"odd{suffix}")
    meta = json.loads((tmp_path / "odd.json").read_text(encoding="utf-8"))
    (tmp_path / "odd.json").write_text(json.dumps(meta | {"ngrams": "bag"}), encoding="utf-8")
    monkeypatch.setattr(learned, "MODEL_DIR", tmp_path)
    with pytest.raises(ConfigInvalid, match="unknown n-gram scheme 'bag'"):
        ToneSignals.load("odd")
