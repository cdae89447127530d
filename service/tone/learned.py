"""Learned tone signals: where patterns cannot reach (impoliteness, hostility, sarcasm phrased politely
or without swear words), small models trained on public data score a reply.

Each signal blends two linear models with a sigmoid (logistic regressions, or ridge regressions scaled
to a probability), one over the embedding model's vector of the text (the sentence embedding, or the
mean token states after an earlier layer: ``embedding_layer`` in the .json) and one over hashed character
and word n-grams; its threshold was chosen on held-out data so that real agents' replies
still pass (see training/train_tone_signals.py and the .json beside the weights).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from service.errors import ConfigInvalid

if TYPE_CHECKING:
    from service.ports import Embedder

MODEL_DIR = Path(__file__).resolve().parent / "models"
HASH_FEATURES = 2**17
_CHARS = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=HASH_FEATURES,
                           alternate_sign=False, norm=None, lowercase=True)  # fmt: skip
_WORDS = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=HASH_FEATURES,
                           alternate_sign=False, norm=None, lowercase=True)  # fmt: skip


EMBEDDING_LAYERS = 6  # all-MiniLM-L6-v2's transformer layers: a signal reads -1 (the sentence embedding) or 0 to 6

# hashed_ngrams' schemes and how many columns each gives
NGRAM_COLUMNS = {"joint": HASH_FEATURES, "split": 2 * HASH_FEATURES}


def _log_counts(counts: sp.spmatrix) -> sp.csr_matrix:
    counts = sp.csr_matrix(counts, dtype=np.float64)
    counts.data = np.log1p(counts.data)
    return counts


def hashed_ngrams(texts: list[str], scheme: str = "joint") -> sp.csr_matrix:
    """Character and word n-gram counts, log-scaled and normalised.

    ``joint``: both kinds in one hashed space, normalised together (HASH_FEATURES columns); a text has
    several times more character n-grams than words, so the characters carry most of the weight.
    ``split``: each kind in its own space, normalised apart (2 * HASH_FEATURES columns), so the words
    weigh as much as the characters. Indonesian hostility is said in words the English embedding model
    does not know: leaving one writer's set out at a time (five sets), the n-grams alone scored 0.9662
    split against 0.9500 joint; for the five English reply signals split was better on every criterion
    too. On TweetEval's tweets the two tie (README, "Words weigh as much as characters").
    """
    if scheme == "joint":
        return normalize(_log_counts(_CHARS.transform(texts) + _WORDS.transform(texts)))
    if scheme == "split":
        return sp.hstack([normalize(_log_counts(_CHARS.transform(texts))),
                          normalize(_log_counts(_WORDS.transform(texts)))], format="csr")  # fmt: skip
    raise ValueError(f"unknown n-gram scheme {scheme!r}; known: {', '.join(NGRAM_COLUMNS)}")


def vectors_by_layer(embedder: Embedder, texts: Sequence[str], layers: Iterable[int]) -> list[dict[int, list[float]]]:
    """Each text's vectors after each of ``layers`` (what ``ToneSignals.score`` takes; a set's
    ``layers``), from one run of the model; empty mappings when no layer is asked for."""
    wanted = sorted(set(layers))
    if not texts or not wanted:
        return [{} for _ in texts]
    by_layer = embedder.embed_layers(list(texts), wanted)
    return [{layer: by_layer[layer][i] for layer in wanted} for i in range(len(texts))]


@dataclass(frozen=True)
class SignalModel:
    name: str
    criterion: str
    blend: float
    threshold: float
    sem_coef: np.ndarray
    sem_bias: float
    lex_coef: np.ndarray
    lex_bias: float
    figures: dict[str, object]
    layer: int = -1  # the embedding model's layer the embedding half reads (-1: the sentence embedding)

    def probability(self, features: sp.csr_matrix, embedding: np.ndarray) -> float:
        sem = 1 / (1 + np.exp(-(float(embedding @ self.sem_coef) + self.sem_bias)))
        lex = 1 / (1 + np.exp(-(float((features @ self.lex_coef)[0]) + self.lex_bias)))
        return float(self.blend * sem + (1 - self.blend) * lex)


@dataclass(frozen=True)
class ToneSignals:
    version: str
    language: str
    signals: tuple[SignalModel, ...]
    ngrams: str = "joint"  # hashed_ngrams' scheme, the same for every signal of a set

    @classmethod
    def load(cls, name: str = "tone-signals-v6") -> ToneSignals:
        """A set of signals shipped in service/tone/models/ (NAME.json and NAME.npz)."""
        stem = MODEL_DIR / name
        if not stem.with_suffix(".json").exists():
            shipped = sorted(p.stem for p in MODEL_DIR.glob("*.json"))
            raise ConfigInvalid(f"no learned tone signals named {name!r}; shipped: {', '.join(shipped)}")
        meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(stem.with_suffix(".npz")) as w:
            models = tuple(
                SignalModel(name=name, criterion=m["criterion"], blend=float(m["blend"]), threshold=float(m["threshold"]),
                            sem_coef=w[f"{name}_sem_coef"].astype(np.float64), sem_bias=float(w[f"{name}_sem_bias"]),
                            lex_coef=w[f"{name}_lex_coef"].astype(np.float64), lex_bias=float(w[f"{name}_lex_bias"]),
                            layer=int(m.get("embedding_layer", -1)),
                            figures={k: v for k, v in m.items() if k not in {"criterion", "blend", "threshold"}})
                for name, m in meta["signals"].items()
            )  # fmt: skip
        if odd := [m.name for m in models if not -1 <= m.layer <= EMBEDDING_LAYERS]:
            raise ConfigInvalid(f"learned tone signals {name!r}: {', '.join(odd)} read an embedding layer the model "
                                f"does not have (-1, or 0 to {EMBEDDING_LAYERS})")  # fmt: skip
        ngrams = meta.get("ngrams", "joint")
        if ngrams not in NGRAM_COLUMNS:
            raise ConfigInvalid(f"learned tone signals {name!r} use an unknown n-gram scheme {ngrams!r}")
        columns = NGRAM_COLUMNS[ngrams]
        if wrong := [m.name for m in models if m.lex_coef.shape != (columns,)]:
            raise ConfigInvalid(f"learned tone signals {name!r}: the n-gram weights of {', '.join(wrong)} do not "
                                f"fit the {ngrams!r} scheme ({columns} columns)")  # fmt: skip
        return cls(version=meta["version"], language=meta["language"], signals=models, ngrams=ngrams)

    @property
    def layers(self) -> tuple[int, ...]:
        """The embedding model's layers the signals read (-1: the sentence embedding), for
        ``Embedder.embed_layers``; empty when every signal leans on the n-grams alone (blend 0)."""
        return tuple(sorted({m.layer for m in self.signals if m.blend > 0}))

    @property
    def needs_embedding(self) -> bool:
        """False when every signal leans on the n-grams alone (blend 0): no need to embed the reply."""
        return bool(self.layers)

    def score(self, text: str, embedding: Mapping[int, Sequence[float]] | Sequence[float] | np.ndarray | None) -> dict[str, float]:
        """Each signal's probability for one text. ``embedding`` is the text's vectors by layer
        (``Embedder.embed_layers`` over ``layers``), or its sentence embedding alone when that is all the
        signals read; None when none reads any."""
        features = hashed_ngrams([text], self.ngrams)
        by_layer = embedding if isinstance(embedding, Mapping) else {-1: embedding}
        out = {}
        for m in self.signals:
            vec = by_layer.get(m.layer)
            if vec is None and m.blend > 0:
                raise ValueError(f"the {self.version} signal {m.name} reads layer {m.layer} of the embedding model, "
                                 "which was not given")  # fmt: skip
            out[m.name] = m.probability(features, np.zeros(m.sem_coef.shape) if vec is None else np.asarray(vec, dtype=np.float64))
        return out
