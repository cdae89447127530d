"""Fine-tune the embedding model on a taxonomy's labelled examples, for the issue-type classifier only.

The frozen all-MiniLM-L6-v2 places "my card hasn't arrived" and "my card was declined" close together:
it was trained for general similarity, not for a brand's issue types. A few epochs of supervised
fine-tuning on the examples themselves (cross-entropy through a linear head that starts from a logistic
regression on the frozen embeddings, so the first steps do not scramble the space) pull each issue
type's examples apart. With 2 epochs (`tenang eval classify --tune-epochs 2`, 5-fold) the classifier's F1
of `complaint` on complaints-twitter went from 0.816 to 0.843 and banking77 10-shot accuracy from 0.847
to 0.858; CFPB macro F1 fell from 0.594 to 0.582 and the sample pack's accuracy from 0.722 to 0.688, so
the service turns it on only when asked (TENANG_KNOWLEDGE__TUNE_EPOCHS). (Those untuned figures are
``ensemble-v5``'s; ``ensemble-v6``, which reads an earlier layer beside the sentence embedding when not
tuned, scores 0.8325, 0.8435, 0.591 and 0.736.)

Retrieval stays on the base model: only classification reads the tuned copy. The tuned weights are
saved in a folder beside the classifier (a sentence-transformers folder: weights plus the base model's
tokenizer files) and run through ONNX Runtime like the base model, exported once.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from service.adapters.embedder import OnnxEmbedder, _model_key, _offline, cache_folder, default_model_path
from service.drafting.classify import fit_semantic

log = logging.getLogger(__name__)
TUNING_VERSION = "ce-head-v1"  # bump when the recipe below changes: tuned folders are keyed by it
BATCH = 16
MAX_TOKENS = 128  # complaints longer than this are cut while tuning (the model reads 256 when embedding)
LEARNING_RATE = 3e-5
HEAD_LEARNING_RATE = 1e-3
MIN_STEPS = 30  # few examples get more epochs, so that the head and the encoder move at all
MAX_STEPS = 300  # about two to three minutes on a 2-core machine, whatever the number of examples
_SIDE_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
               "sentence_bert_config.json", "modules.json")  # fmt: skip


class EncoderTuner:
    """Tunes a copy of the embedding model per set of labelled examples and keeps it under ``cache_dir``
    (the folder name is the hash of the examples, the base model and the recipe, so the same examples
    are tuned once)."""

    def __init__(self, cache_dir: Path | None, *, epochs: int = 2, model_path: Path | None = None, seed: int = 0,
                 min_steps: int = MIN_STEPS) -> None:  # fmt: skip
        self.cache_dir = cache_folder(cache_dir)
        self.epochs = epochs
        self.min_steps = min_steps
        self.base_path = model_path or default_model_path()
        self.seed = seed
        self.recipe = f"{TUNING_VERSION}|epochs={epochs}|min_steps={min_steps}|seed={seed}"

    def steps(self, n_examples: int) -> int:
        """Optimiser steps for ``n_examples``: ``epochs`` passes, at least ``min_steps``, at most MAX_STEPS."""
        return min(MAX_STEPS, max(self.min_steps, self.epochs * math.ceil(n_examples / BATCH)))

    def key(self, texts: Sequence[str], labels: Sequence[str]) -> str:
        digest = hashlib.sha256(f"{self.recipe}|{_model_key(self.base_path)}".encode())
        for text, label in zip(texts, labels, strict=True):
            digest.update(f"\x00{label}\x01{text}".encode())
        return f"tuned-{digest.hexdigest()[:20]}"

    def load(self, ref: str) -> OnnxEmbedder | None:
        """The tuned model saved under ``ref``, or None when it is gone (the classifier is then retrained)."""
        folder = self._folder(ref)
        if not (folder / "config.json").exists():
            return None
        return OnnxEmbedder(model_path=folder, cache_dir=self.cache_dir)

    def _folder(self, ref: str) -> Path:
        return self.cache_dir / "tuned" / ref

    def tune(self, texts: Sequence[str], labels: Sequence[str]) -> tuple[str, OnnxEmbedder]:
        """A reference to find the tuned model again, and the tuned model."""
        ref = self.key(texts, labels)
        found = self.load(ref)
        if found is not None:
            return ref, found
        target = self._folder(ref)
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{ref}-"))
        try:
            self._train(list(texts), list(labels), work)
            for name in _SIDE_FILES:
                if (self.base_path / name).exists():
                    shutil.copy2(self.base_path / name, work / name)
            try:
                os.replace(work, target)  # whole folders only: a crash leaves no half-written model behind
            except OSError:  # another process tuned the same examples first: keep theirs
                if self.load(ref) is None:
                    raise
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
        found = self.load(ref)
        assert found is not None
        return ref, found

    def _train(self, texts: list[str], labels: list[str], out: Path) -> None:
        _offline()
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Writing model shards" bars in the service's output

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        tokenizer = Tokenizer.from_file(str(self.base_path / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding()
        model = AutoModel.from_pretrained(str(self.base_path))
        classes = sorted(set(labels))
        y = np.asarray([classes.index(lab) for lab in labels])

        def embed(batch: list[str]) -> torch.Tensor:
            encoded = tokenizer.encode_batch(batch)
            ids = torch.tensor([e.ids for e in encoded])
            mask = torch.tensor([e.attention_mask for e in encoded])
            states = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
            weights = mask[..., None].float()
            return torch.nn.functional.normalize((states * weights).sum(1) / weights.sum(1).clamp(min=1e-9), dim=1)

        # The head starts where the classifier's embedding half, fitted on the frozen embeddings, ends.
        model.eval()
        with torch.no_grad():
            frozen = np.vstack([embed(texts[i : i + 64]).numpy() for i in range(0, len(texts), 64)])
        start = fit_semantic(frozen, y)
        coef, bias = start.coef_, start.intercept_
        if len(classes) == 2:  # one row for two classes: split it into two opposite rows (same softmax)
            coef, bias = np.vstack([-coef / 2, coef / 2]), np.asarray([-bias[0] / 2, bias[0] / 2])
        head = torch.nn.Linear(coef.shape[1], len(classes))
        head.weight.data = torch.tensor(coef, dtype=torch.float32)
        head.bias.data = torch.tensor(bias, dtype=torch.float32)
        counts = np.bincount(y, minlength=len(classes))
        class_weight = torch.tensor(len(y) / (len(classes) * np.maximum(counts, 1)), dtype=torch.float32)
        optimiser = torch.optim.AdamW([{"params": model.parameters(), "lr": LEARNING_RATE},
                                       {"params": head.parameters(), "lr": HEAD_LEARNING_RATE}], weight_decay=0.01)  # fmt: skip
        model.train()
        order: list[int] = []
        steps = self.steps(len(texts))
        for _ in range(steps):
            if len(order) < min(BATCH, len(texts)):
                order += list(rng.permutation(len(texts)))
            batch, order = order[:BATCH], order[BATCH:]
            logits = head(embed([texts[i] for i in batch]))
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y[batch]), weight=class_weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval()
        model.save_pretrained(str(out))
        log.info("tuned the embedding model on %d examples of %d labels in %d steps", len(texts), len(classes), steps)
