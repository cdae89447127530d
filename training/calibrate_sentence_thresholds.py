"""Set each English reply signal's sentence threshold: the rubric also scores every sentence of a reply
read alone, so one bad sentence is not diluted by polite ones around it ("Thanks for your post. Just to
clarify for everyone reading, the app was working fine yesterday...").

A sentence read alone scores higher than the reply it sits in, so it gets a threshold of its own: the
lowest at which none of the unseen real agents' replies (the half of brand-replies-twitter that
train_reply_signals.py holds out of training) nor of the sincere warm replies of
evals/datasets/tone/warm.en.v1 (never trained on) has a sentence that fails, and never below the signal's
whole-reply threshold. (Agents' replies are mostly plain help; without the warm ones, -en-v9's cut for
hostility fell to 0.74 and playful sentences such as "you'll be a home barista in no time" failed.) The figures printed are what the rubric file records.

    .venv/bin/python training/calibrate_sentence_thresholds.py [--data ../shared/data] [--signals reply-signals-en-v10]

Data: brand-replies-twitter (IBM twitter-customer-care-document-prediction, EMNLP 2020, Apache-2.0),
read from --data, never copied; warm.en.v1 is ours (MIT).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from calibrate_rubric import sincere_warm_lines

from service.adapters.embedder import OnnxEmbedder
from service.drafting.pipeline import scored_sentences
from service.knowledge.pack import load_pack
from service.tone.checks import learned_thresholds
from service.tone.learned import ToneSignals, vectors_by_layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--signals", default="reply-signals-en-v10")
    args = parser.parse_args()
    signals = ToneSignals.load(args.signals)
    whole = learned_thresholds(load_pack(Path("knowledge")).rubric)
    agents = [json.loads(line)["text"] for line in (args.data / "brand-replies-twitter/dev.jsonl").read_text().splitlines() if line.strip()]
    held = [t for i, t in enumerate(agents) if not i % 2]  # the half train_reply_signals.py never trains on
    # and the sincere warm replies of evals/datasets/tone/warm.en.v1 (never trained on; warm.en.v2 stays unseen)
    held += [line["text"] for line in sincere_warm_lines()]
    embedder = OnnxEmbedder(cache_dir=Path("var/models"))
    highest: dict[str, list[float]] = {m.name: [] for m in signals.signals}
    for text in held:
        sentences = scored_sentences(text)  # as the rubric scores them (none for a one-sentence reply)
        if not sentences:
            continue
        vectors = vectors_by_layer(embedder, sentences, signals.layers)
        scores = [signals.score(s, v) for s, v in zip(sentences, vectors, strict=True)]
        for name in highest:
            highest[name].append(max(sc[name] for sc in scores))
    out = {}
    for name, values in highest.items():
        top = float(np.max(values))
        cut = max(whole.get(name, 0.0), (math.floor(round(top * 100, 6)) + 1) / 100)  # the next cent above, exactly
        out[name] = {"sentence_threshold": round(cut, 2), "whole_threshold": whole.get(name),
                     "highest_sentence_of_known_good_replies": round(top, 4), "known_good_replies_with_sentences_scored": len(values)}  # fmt: skip
        print(name, out[name], flush=True)
    print(json.dumps({k: v["sentence_threshold"] for k, v in out.items()}))


if __name__ == "__main__":
    main()
