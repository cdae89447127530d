"""Leave one writer out: how the English reply signals' n-gram schemes do on a writer they have not
seen. Reproduces the probe that chose ``reply-signals-en-v10``'s split n-grams (README, "Words weigh as
much as characters").

Each file of labelled English replies that trains the signals (training/data/replies.en.train.*,
warm.en.train.*, evals/datasets/tone/replies.en.tone.v2 and v4: one writer each) is held out in turn;
each signal is trained on the other files (without the batches later written at a held-out set's misses:
replies.en.train.v5a and v5b for replies.en.tone.v2, v9a and v9b for v4), with the pack's own sentences and half of the real agents'
replies as good replies counting five times (as train_reply_signals.py does, without its public
negatives), and scores the held-out file. Prints, per scheme, criterion and blend, the average precision
and the best F1 over all held-out predictions pooled. The unseen checks (replies.en.tone.v3, v5,
warm.en.v1, v2) are never read.

    .venv/bin/python training/probe_en_writers.py [--data ../shared/data]   (about five minutes)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, f1_score
from train_reply_signals import CRITERIA, GOOD_WEIGHT, REPLIES, pack_sentences, read_jsonl
from train_tone_signals import approved_replies, fit_pair, scores

from service.adapters.embedder import OnnxEmbedder

# the batches written at a set's misses, left out of training while that set is held out
AIMED = {"replies.en.tone.v2": ("replies.en.train.v5a", "replies.en.train.v5b"),
         "replies.en.tone.v4": ("replies.en.train.v9a", "replies.en.train.v9b")}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    texts, fails, groups = [], [], []
    for path in REPLIES["en"]:
        rows = read_jsonl(path)
        texts += [r["text"] for r in rows]
        fails += [set(r["fail"]) for r in rows]
        groups += [path.stem] * len(rows)
    agents = [r["text"] for r in read_jsonl(args.data / "brand-replies-twitter/dev.jsonl")]
    good = list(dict.fromkeys(approved_replies("en") + pack_sentences("en"))) + [t for i, t in enumerate(agents) if i % 2]
    embedder = OnnxEmbedder(cache_dir=Path("var/models"))
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    good_vectors = np.asarray(embedder.embed(good), dtype=np.float32)
    group = np.asarray(groups)
    for scheme in ("joint", "split"):
        held = {c: (np.zeros(len(texts)), np.zeros(len(texts))) for c in CRITERIA}
        for g in sorted(set(groups)):
            train = np.flatnonzero(~np.isin(group, [g, *AIMED.get(g, ())]))
            test = np.flatnonzero(group == g)
            weight = np.r_[np.ones(len(train)), np.full(len(good), GOOD_WEIGHT["en"])]
            for c in CRITERIA:
                y = np.asarray([c in fails[i] for i in train] + [False] * len(good), dtype=int)
                models = fit_pair([texts[i] for i in train] + good, np.vstack([vectors[train], good_vectors]), y, weight, scheme)
                held[c][0][test], held[c][1][test] = scores(models, [texts[i] for i in test], vectors[test], scheme)
        for c in CRITERIA:
            truth = np.asarray([c in f for f in fails], dtype=int)
            cells = []
            for blend in (0.0, 0.4, 0.6):
                p = blend * held[c][0] + (1 - blend) * held[c][1]
                f1 = max(f1_score(truth, p >= t) for t in np.arange(0.1, 0.95, 0.01))
                cells.append(f"blend {blend:.1f}: AP {average_precision_score(truth, p):.3f}, F1 {f1:.3f}")
            print(f"{scheme:5s} {c:18s} ({truth.sum()} failing) " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
