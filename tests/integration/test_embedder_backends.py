"""The ONNX Runtime backend is the service's default: it must give the reference model's vectors, and
export the graph once per cache folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from service.adapters.embedder import OnnxEmbedder, SentenceEmbedder
from service.config import Settings
from service.services import build_embedder

TEXTS = [
    "my order is three days late and nobody answers",
    "Pesanan saya belum datang sudah 3 hari, CS tidak membalas!!!",
    "ok",
    "I was charged twice for order #KN-20931. " * 30,  # longer than the model's 256 tokens: truncated alike
]


def test_onnx_vectors_match_sentence_transformers(tmp_path: Path) -> None:
    onnx = np.asarray(OnnxEmbedder(cache_dir=tmp_path).embed(TEXTS))
    reference = np.asarray(SentenceEmbedder().embed(TEXTS))
    assert onnx.shape == reference.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert (onnx * reference).sum(axis=1).min() > 0.9999
    # batching and padding do not change a text's vector
    alone = np.asarray(OnnxEmbedder(cache_dir=tmp_path).embed(TEXTS[:1]))[0]
    assert float(alone @ onnx[0]) > 0.99999


def test_earlier_layers_come_from_the_same_run_and_match_the_reference(tmp_path: Path) -> None:
    onnx = OnnxEmbedder(cache_dir=tmp_path)
    layers = {k: np.asarray(v) for k, v in onnx.embed_layers(TEXTS, [4, -1]).items()}
    # the last layer is the sentence embedding itself; layer 4 is another vector, still unit length
    assert np.allclose(layers[-1], np.asarray(onnx.embed(TEXTS)), atol=1e-6)
    assert np.allclose(np.linalg.norm(layers[4], axis=1), 1.0, atol=1e-5)
    assert (layers[4] * layers[-1]).sum(axis=1).max() < 0.95
    reference = np.asarray(SentenceEmbedder().embed_layers(TEXTS, [4])[4])
    assert (layers[4] * reference).sum(axis=1).min() > 0.9999
    assert onnx.embed_layers([], [4]) == {4: []}


def test_the_graph_is_exported_once_per_cache(tmp_path: Path) -> None:
    OnnxEmbedder(cache_dir=tmp_path)
    graphs = list((tmp_path / "onnx").glob("*.onnx"))
    assert len(graphs) == 1 and not list((tmp_path / "onnx").glob("*.part"))
    stamp = graphs[0].stat().st_mtime_ns
    OnnxEmbedder(cache_dir=tmp_path)
    assert graphs[0].stat().st_mtime_ns == stamp


def test_settings_choose_the_backend() -> None:
    session_cache = Path(os.environ["TENANG_KNOWLEDGE__MODEL_CACHE"])  # already holds the graph
    assert isinstance(build_embedder(Settings(_env_file=None, knowledge={"model_cache": session_cache})), OnnxEmbedder)
    torch_settings = Settings(_env_file=None, embedding={"backend": "torch"})
    assert isinstance(build_embedder(torch_settings), SentenceEmbedder)
