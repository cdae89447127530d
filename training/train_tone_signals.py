"""Train the learned tone signals the rubric uses where patterns cannot reach: impoliteness, hostility
(offensive language) and sarcasm (irony) in English replies.

Each signal is two linear models blended, as the issue-type classifier is: one over an
all-MiniLM-L6-v2 vector of the text (the sentence embedding; for irony the mean token states after layer
4, LAYERS below), one over hashed character and word n-grams (no vocabulary to
ship, so the artefact stays small). For offensive and irony they are logistic regressions; for
politeness, ridge regressions on the raters' score over every request, scaled to a probability. The blend
weight, the decision threshold and, for irony, the embedding half's C (SEM_C_GRID) are chosen on data the models did not train on (for offensive and
irony, 5-fold cross-validation on the source's training file, and the source's validation file is scored
once with that choice; for politeness, 5-fold cross-validation on the Wikipedia requests with the Stack
Exchange ones always in training), and the threshold is raised until unseen real agents' replies pass at
least 99.5% of the time and unseen good English replies we wrote (training/data/replies.en.train.v1) at
least 99%. Half of the agents' replies, half of our good replies, and the sample pack's approved English
replies are extra negative examples in training, each counting GOOD_WEIGHT times; for irony, so are the
good warm replies we wrote (training/data/warm.en.train.v1 and v1b: thanks for praise, banter,
milestones, emoji).

    .venv/bin/python training/train_tone_signals.py --data ../shared/data

writes service/tone/models/tone-signals-v6.npz (weights) and .json (sources, licences, figures).
(v6's irony model reads the mean token states after layer 4 of the embedding model instead of the
sentence embedding, with its C chosen by cross-validation. Its offensive and politeness models are v5's
arrays, copied: re-run on 2026-11-27 the script gave offensive 0.47 instead of 0.48 (cross-validated F1
0.6723 against 0.6724; weights within 0.02 of v5's, float differences of the embedding run), and the
rubric's figures for those two are v5's. v1 scored politeness by cross-validation over both sources together and did not check our replies; v3
counted the known-good replies once and chose offensive and irony's thresholds on the validation file;
v4 had no warm replies among its negatives.)

Data (read from --data, never copied into the repo):
- politeness: Stanford Politeness Corpus, Wikipedia and Stack Exchange requests (the raters' score of
  every request; polite vs impolite quartiles for scaling, thresholds and figures). Danescu-Niculescu-Mizil, Sudhof, Jurafsky, Leskovec, Potts (2013), "A computational
  approach to politeness with application to social factors", ACL. Repository sudhof/politeness,
  Apache-2.0.
- offensive: TweetEval, offensive task (OLID). Barbieri et al. (2020), "TweetEval: Unified benchmark and
  comparative evaluation for tweet classification", Findings of EMNLP; Zampieri et al. (2019), OLID.
  cardiffnlp/tweeteval states no licence of its own: research use, under Twitter's terms.
- irony: TweetEval, irony task (Van Hee et al. 2018, SemEval-2018 Task 3). Same terms as above.
- brand-replies-twitter: IBM twitter-customer-care-document-prediction (EMNLP 2020), Apache-2.0: real
  agents' replies; half are negative training examples, half cap false alarms.
- training/data/replies.en.train.v1 (ours, MIT): good English replies to complaints; half are negative
  training examples, half cap false alarms. training/data/warm.en.train.v1 and v1b (ours, MIT): warm
  replies to praise and banter; the good ones are negative examples for irony.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

from service.adapters.embedder import OnnxEmbedder
from service.tone.learned import HASH_FEATURES, MODEL_DIR, hashed_ngrams

BLENDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
MIN_BRAND_PASS = 0.995  # per signal, on unseen agents' replies, so that the three together keep them above 0.97
MIN_OURS_PASS = 0.99  # per signal, on the good English replies we wrote (training/data/replies.en.train.v1)
# How much each known-good reply counts in the offensive and irony models. Counted once, the few hundred
# replies are drowned by thousands of tweets, warm agent phrasing ("love to help!") scores as irony, and
# the pass floor above forces irony's threshold up to 0.58 (validation F1 0.60). Counted 10 times, the
# threshold falls to the high 0.3s and the F1 rises to about 0.68 (a probe, choosing on 5-fold
# cross-validation of the training file: weight 1, 10, 20, 40 gave 0.602, 0.678, 0.674, 0.677; for
# offensive 1 and 10 gave 0.679 and 0.678).
GOOD_WEIGHT = 10.0
# The embedding layer each signal's embedding half reads (-1, the default, is the sentence embedding), and
# the C values its cross-validation chooses from (default: SEM_C alone). Irony reads the mean token states
# after layer 4, the layer the issue-type classifier reads beside the sentence embedding: the sentence
# embedding is trained to place texts by meaning, and irony is in how a tweet is phrased. A probe
# (2026-11-27, this script's folds, floors and negatives): cross-validated F1 0.6782 from the sentence
# embedding (C 4), 0.7014 / 0.7037 / 0.7046 / 0.704 from layer 4 at C 4 / 10 / 30 / 100. Layers 2, 3 and 5
# and the sentence embedding beside layer 4 gave 0.6846 to 0.7041 at C 1 to 100; layers 3 and 4 together
# 0.7075 (C 30) and 0.7092 (C 100), not chosen: the same layer as the classifier, and the probe printed the
# validation file too (README, "Irony").
SEM_C = 4.0
LAYERS = {"irony": 4}
SEM_C_GRID = {"irony": (4.0, 10.0, 30.0, 100.0)}


def read(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], r["label"]) for r in rows]


def read_scored(path: Path) -> list[tuple[str, int, float]]:
    """Politeness rows: text, 1 impolite / 0 polite / -1 neutral (the middle half), and the raters' score."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    code = {"impolite": 1, "polite": 0, "neutral": -1}
    return [(r["text"], code[r["label"]], float(r["score"])) for r in rows]


class ScaledRidge:
    """A ridge regression on the politeness score, Platt-scaled into the probability of impolite: linear
    with a sigmoid, the shape of a fitted LogisticRegression (coef_, intercept_, predict_proba), so it is
    stored and scored like one."""

    def __init__(self, x, score: np.ndarray, y: np.ndarray, alpha: float) -> None:  # type: ignore[no-untyped-def]
        ridge = Ridge(alpha=alpha).fit(x, score)
        # scaled on out-of-fold predictions: in sample, the n-gram ridge nearly memorises its targets and
        # the scaling would come out far too confident
        unseen = cross_val_predict(Ridge(alpha=alpha), x, score, cv=KFold(5, shuffle=True, random_state=0))
        known = y >= 0  # polite or impolite (neutral rows only teach the score)
        platt = LogisticRegression(C=100.0, max_iter=1000).fit(np.asarray(unseen).ravel()[known, None], y[known])
        a, c = float(platt.coef_[0][0]), float(platt.intercept_[0])
        self.coef_ = (a * np.asarray(ridge.coef_, dtype=np.float64))[None, :]
        self.intercept_ = np.asarray([a * float(ridge.intercept_) + c])

    def predict_proba(self, x) -> np.ndarray:  # type: ignore[no-untyped-def]
        p = 1 / (1 + np.exp(-(np.asarray(x @ self.coef_[0]).ravel() + self.intercept_[0])))
        return np.column_stack([1 - p, p])


def fit_scored(texts: list[str], vectors: np.ndarray, score: np.ndarray, y: np.ndarray) -> tuple[ScaledRidge, ScaledRidge]:
    """The politeness pair: ridge on the raters' score over every request, neutral ones included (they
    place the boundary), then scaled to a probability on the polite and impolite ones. In a probe on
    Wikipedia (5-fold, three fold seeds, blend 0.5, no extra replies) it beat logistic regression on the
    two quartiles alone: accuracy 0.861 against 0.853."""
    return ScaledRidge(vectors, score, y, 10.0), ScaledRidge(hashed_ngrams(texts), score, y, 1.0)


def approved_replies(language: str) -> list[str]:
    """The sample pack's approved past replies in one language: calm by definition."""
    rows = [json.loads(line) for f in sorted(Path("knowledge/past_replies").glob("*.jsonl"))
            for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]  # fmt: skip
    return [r["reply"] for r in rows if r.get("language") == language]


def fit_pair(texts: list[str], vectors: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
             ngrams: str = "joint", sem_c: float = SEM_C) -> tuple[LogisticRegression, LogisticRegression]:  # fmt: skip
    """Both halves, classes balanced, each row counting ``weight`` times (default once); ``ngrams`` is
    hashed_ngrams' scheme, ``sem_c`` the embedding half's C."""
    n_pos = int(y.sum())
    balanced = np.where(y == 1, len(y) / (2 * n_pos), len(y) / (2 * (len(y) - n_pos)))
    weight = balanced * (np.ones(len(y)) if weight is None else weight)
    sem = LogisticRegression(C=sem_c, max_iter=3000).fit(vectors, y, sample_weight=weight)
    lex = LogisticRegression(C=4.0, max_iter=3000).fit(hashed_ngrams(texts, ngrams), y, sample_weight=weight)
    return sem, lex


def pair_weights(name: str, models: tuple[LogisticRegression, LogisticRegression]) -> dict[str, np.ndarray]:
    """One signal's arrays as service/tone/learned.py loads them (n-gram weights in float16: small files)."""
    sem, lex = models
    return {f"{name}_sem_coef": sem.coef_[0].astype(np.float32), f"{name}_sem_bias": np.float32(sem.intercept_[0]),
            f"{name}_lex_coef": lex.coef_[0].astype(np.float16), f"{name}_lex_bias": np.float32(lex.intercept_[0])}


def scores(models: tuple[LogisticRegression, LogisticRegression], texts: list[str], vectors: np.ndarray,
           ngrams: str = "joint") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    sem, lex = models
    return sem.predict_proba(vectors)[:, 1], lex.predict_proba(hashed_ngrams(texts, ngrams))[:, 1]


def with_extra(texts: list[str], vectors: np.ndarray, y: np.ndarray, extra: tuple[list[str], np.ndarray]):  # noqa: ANN201
    """Training data plus known-good agent replies as negatives, fit_pair's arguments: the training rows
    count once, the known-good replies GOOD_WEIGHT times."""
    n_good = len(extra[0])
    return (texts + extra[0], np.vstack([vectors, extra[1]]), np.concatenate([y, np.zeros(n_good, dtype=int)]),
            np.concatenate([np.ones(len(texts)), np.full(n_good, GOOD_WEIGHT)]))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "tone-signals-v6")
    args = parser.parse_args()
    d = args.data
    embedder = OnnxEmbedder(cache_dir=Path("var/models"))

    embedded: dict[tuple[int, tuple[str, ...]], np.ndarray] = {}

    def embed(texts: list[str], layer: int = -1) -> np.ndarray:
        """The vectors a signal reading ``layer`` takes (-1: the sentence embedding), each list embedded
        once (the known-good replies serve every signal)."""
        key = (layer, tuple(texts))
        if key not in embedded:
            vectors = embedder.embed(texts) if layer == -1 else embedder.embed_layers(texts, (layer,))[layer]
            embedded[key] = np.asarray(vectors, dtype=np.float32)
        return embedded[key]

    agents = [r["text"] for r in map(json.loads, (d / "brand-replies-twitter/dev.jsonl").read_text().splitlines()) if r]
    # Real agents' replies are known-good: half of them (and the sample pack's approved English replies)
    # join every signal's training data as negatives, so the models learn that agent style is not
    # hostile; the other half only sets the thresholds, so its pass rate is measured on unseen replies.
    pack_replies = approved_replies("en")
    # The good English replies we wrote: half join the negatives (agents' style, in our brands' words,
    # is not irony or offence), the other half must pass (the threshold's check).
    ours = [r["text"] for r in map(json.loads, (Path(__file__).resolve().parent / "data/replies.en.train.v1.jsonl")
            .read_text(encoding="utf-8").splitlines()) if not r["fail"]]  # fmt: skip
    good = [t for i, t in enumerate(agents) if i % 2] + pack_replies + [t for i, t in enumerate(ours) if i % 2]
    extra = (good, embed(good))
    # Irony's negatives also hold the good warm replies to praise, thanks and banter we wrote
    # (training/data/warm.en.train.v1, v1b): v4, without them, flagged 66 of the 200 in v1 at its 0.37
    # (sincere enthusiasm reads like a sarcastic tweet). The other two signals flagged few of them (the
    # courtesy model 4, the offensive one none), and with them politeness fell to 0.8576 (from 0.8614).
    warm = [r["text"] for k in ("v1", "v1b") for r in map(json.loads, (Path(__file__).resolve().parent / f"data/warm.en.train.{k}.jsonl")
            .read_text(encoding="utf-8").splitlines()) if not r["fail"]]  # fmt: skip
    extras = {"irony": good + warm}
    brand = [t for i, t in enumerate(agents) if not i % 2]
    ours_good = [t for i, t in enumerate(ours) if not i % 2]
    signals = {
        # name: (train rows, validation rows, positive label, the criterion it serves). Politeness reads
        # its requests with their raters' scores below: Stack Exchange's always train, Wikipedia's are
        # scored by 5-fold cross-validation (the politeness figure the rubric is held to is on Wikipedia).
        "impolite": ([], [], "impolite", "courteous"),
        "offensive": (read(d / "tweeteval-offensive/train.jsonl"), read(d / "tweeteval-offensive/val.jsonl"), "offensive", "no_hostility"),
        "irony": (read(d / "tweeteval-irony/train.jsonl"), read(d / "tweeteval-irony/val.jsonl"), "irony", "no_sarcasm"),
    }
    weights: dict[str, np.ndarray] = {}
    meta: dict[str, dict] = {}
    for name, (train, val, positive, criterion) in signals.items():
        t0 = time.time()
        layer = LAYERS.get(name, -1)
        brand_vecs, ours_vecs = embed(brand, layer), embed(ours_good, layer)
        grid = SEM_C_GRID.get(name, (SEM_C,))
        if name == "impolite":
            assert layer == -1 and grid == (SEM_C,), "politeness reads the sentence embedding; its ridge has no C"
            # every request with its raters' score; Stack Exchange and Wikipedia's neutral ones always
            # train, Wikipedia's polite and impolite ones are scored by 5-fold cross-validation
            se, wk = read_scored(d / "politeness/stack-exchange.dev.jsonl"), read_scored(d / "politeness/wikipedia.dev.jsonl")
            always = se + [r for r in wk if r[1] < 0]
            polite_score = float(np.mean([r[2] for r in se if r[1] == 0]))  # Stack Exchange's: never scored
            good_rows = [(t, 0, polite_score) for t in good]  # known-good replies count as polite requests
            base = always + good_rows
            base_vecs = np.vstack([embed([t for t, _, _ in always]), extra[1]])
            scored = [r for r in wk if r[1] >= 0]
            v_texts, v_y = [t for t, _, _ in scored], np.asarray([lab for _, lab, _ in scored], dtype=int)
            v_vecs = embed(v_texts)
            p_sem, p_lex = np.zeros(len(v_y)), np.zeros(len(v_y))

            def fit_rows(rows: list, vecs: np.ndarray) -> tuple[ScaledRidge, ScaledRidge]:  # type: ignore[type-arg]
                return fit_scored([t for t, _, _ in rows], vecs, np.asarray([sc for _, _, sc in rows]),
                                  np.asarray([lab for _, lab, _ in rows]))  # fmt: skip

            for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(v_vecs, v_y):
                fold = fit_rows(base + [scored[i] for i in a], np.vstack([base_vecs, v_vecs[a]]))
                p_sem[b], p_lex[b] = scores(fold, [v_texts[i] for i in b], v_vecs[b])
            models = fit_rows(base + scored, np.vstack([base_vecs, v_vecs]))
            texts = [t for t, _, _ in base + scored]
            choose_y = v_y  # chosen and reported on the same held-out folds
            candidates = {SEM_C: (models, p_sem, p_lex, p_sem, p_lex)}
        else:
            texts = [t for t, _ in train]
            y = np.asarray([lab == positive for _, lab in train], dtype=int)
            vectors = embed(texts, layer)
            v_texts = [t for t, _ in val]
            v_y = np.asarray([lab == positive for _, lab in val], dtype=int)
            v_vecs = embed(v_texts, layer)
            negatives = (extras[name], embed(extras[name], layer)) if name in extras else (good, embed(good, layer))
            choose_y = y
            candidates = {}
            for c in grid:
                # choose on out-of-fold predictions over the training file; the validation file is scored once
                p_sem, p_lex = np.zeros(len(y)), np.zeros(len(y))
                for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(vectors, y):
                    fold = fit_pair(*with_extra([texts[i] for i in a], vectors[a], y[a], negatives), sem_c=c)
                    p_sem[b], p_lex[b] = scores(fold, [texts[i] for i in b], vectors[b])
                models = fit_pair(*with_extra(texts, vectors, y, negatives), sem_c=c)
                candidates[c] = (models, p_sem, p_lex, *scores(models, v_texts, v_vecs))
        best = None
        for c, (models, p_sem, p_lex, val_sem, val_lex) in candidates.items():
            b_sem, b_lex = scores(models, brand, brand_vecs)
            o_sem, o_lex = scores(models, ours_good, ours_vecs)
            for blend in BLENDS:
                p = blend * p_sem + (1 - blend) * p_lex
                brand_p = blend * b_sem + (1 - blend) * b_lex
                floor = float(np.quantile(brand_p, MIN_BRAND_PASS))  # at or above: more than 0.5% of agents fail
                # and the good replies we wrote (not in this training data) pass at least 99% of the time
                ours_p = blend * o_sem + (1 - blend) * o_lex
                floor = max(floor, float(np.quantile(ours_p, MIN_OURS_PASS)))
                val_p = blend * val_sem + (1 - blend) * val_lex
                for threshold in np.round(np.arange(0.2, 0.96, 0.01), 2):
                    if threshold <= floor:
                        continue
                    pred = p >= threshold
                    key = float(np.mean(pred == choose_y)) if name == "impolite" else float(f1_score(choose_y, pred))
                    if best is None or key > best["key"]:
                        val_pred = val_p >= threshold
                        best = {"key": key, "c": c, "blend": blend, "threshold": float(threshold),
                                "f1": round(float(f1_score(v_y, val_pred)), 4), "accuracy": round(float(np.mean(val_pred == v_y)), 4),
                                "brand_pass": round(float(np.mean(brand_p < threshold)), 4),
                                "ours_pass": round(float(np.mean(ours_p < threshold)), 4)}
        assert best is not None
        weights |= pair_weights(name, candidates[best["c"]][0])
        meta[name] = {"criterion": criterion, "blend": best["blend"], "threshold": best["threshold"],
                      "embedding_layer": layer, **({} if name == "impolite" else {"embedding_c": best["c"]}),
                      "validation": "5-fold cross-validation on Wikipedia" if name == "impolite" else
                      "the source's validation file, scored once with the blend, C and threshold chosen by 5-fold cross-validation on its training file",
                      "chosen_on_cv": round(best["key"], 4),
                      "f1": best["f1"], "accuracy": best["accuracy"], "unseen_agent_replies_pass": best["brand_pass"],
                      "our_good_replies_pass": best["ours_pass"], "train_rows": len(texts), "seconds": round(time.time() - t0, 1)}
        print(name, meta[name], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out.with_suffix(".npz"), **weights)
    meta_all = {"version": args.out.name, "embedding_model": embedder.name, "hash_features": HASH_FEATURES, "ngrams": "joint",
                "language": "en", "signals": meta, "sources": __doc__.split("Data (read")[1].strip()}
    args.out.with_suffix(".json").write_text(json.dumps(meta_all, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
