"""Train the learned reply signals: for each tone criterion that patterns cannot reach (no_hostility,
courteous, no_sarcasm, no_blame, no_public_argument), does an agent's reply break it? One set per
language, trained on replies written for this project.

The public corpora (politeness requests, offensive and ironic tweets; train_tone_signals.py) are not
agents' replies; these models learn what a bad reply looks like from replies. Each signal is the same
model as the others: logistic regression over the all-MiniLM-L6-v2 sentence embedding blended with one
over hashed character and word n-grams. Blend and threshold come from 5-fold cross-validation: the
threshold with the best F1 among those that flag at most 0.5% of the sample pack's approved replies
and playbook blocks (the composer's own sentences, scored held out) and, in English, at most 0.5% of unseen real agents'
replies (half of brand-replies-twitter, when --data has it; the other half joins training as good replies).
Known-good replies count GOOD_WEIGHT times in training (five in English, once in Indonesian).

    .venv/bin/python training/train_reply_signals.py [--data ../shared/data]

writes service/tone/models/reply-signals-en-v10 and reply-signals-id-v9 (.npz weights, .json figures and sources).

Data:
- training/data/replies.en.train.v1.jsonl (484) and replies.id.train.v1.jsonl (514): agents' replies to
  complaints for Kedai Nusa and five other fictional brands, labelled with the criteria each breaks,
  written for this project (MIT), independently of the evaluation sets in evals/datasets/tone/.
- training/data/replies.en.train.v2.jsonl (400): English replies for 14 fictional brands, half failing
  one or two of the five criteria (two thirds of those subtly), half fine (108 near-misses), written for
  this project (MIT) by another writer who read none of the other data.
- training/data/replies.en.train.v3.jsonl (400): the same mix from a third writer, in British, Australian,
  Indian and Singaporean English, corporate, ticket and casual registers, across 64 fictional brands.
- training/data/replies.en.train.v5a.jsonl and v5b (200 each, MIT, ours): two more writers, aimed at what
  -en-v4 got wrong on evals/datasets/tone/replies.en.tone.v2: v5a subtle sarcasm (ironic exaggeration, mock
  sympathy) and curtness, with warm thanks, playful humour and short reassurances that are fine; v5b blame
  deflected calmly onto partners, other customers or the customer, public argument by citing records,
  open threats, and partners named with ownership taken.
- training/data/warm.en.train.v1.jsonl and v1b (200 each, MIT, ours): two more writers, warm replies to
  praise, thanks, banter and milestones (emoji, slang, exclamation marks), all good in v1; in v1b 50 of
  them are sarcastic or passive-aggressive behind a friendly surface. Aimed at -en-v6's false alarms on
  sincere warmth. evals/datasets/tone/warm.en.v1 (a third writer) chose between configurations;
  warm.en.v2 (a fourth) is the unseen check and is never trained on.
- training/data/replies.en.train.v8a.jsonl and v8b (200 each, MIT, ours): two more writers; v8a discourtesy in
  its forms (curt, stonewalling, condescending, lecturing, impatient, belittling) with 90 courteous
  near-misses; v8b all five criteria, half good, in long help-desk emails, small businesses' review
  replies and other Englishes.
- training/data/replies.en.train.v9a.jsonl and v9b (200 each, MIT, ours): two more writers, aimed at what
  -en-v8 got wrong on evals/datasets/tone/replies.en.tone.v4: v9a contempt (veiled threats, snide asides,
  mockery) and sarcasm (mock sympathy, ironic asides) behind courtesy, with warm banter to praise,
  good-humoured and compassionate replies that are fine; v9b blame passed calmly to partners, tools or the
  customer and public argument by citing records, with ownership ("you should have had a message from us"),
  neutral causes and private corrections that are fine.
- evals/datasets/tone/replies.en.tone.v4 (200, MIT, ours, a fifth writer): the unseen check of -en-v8; its
  misses were read for -en-v9, so it is training data now. replies.en.tone.v3 and v5 (a sixth writer) are
  unseen checks and are never trained on.
- evals/datasets/tone/replies.en.tone.v2 (200, MIT, ours): the unseen check of -en-v4; its misses were read
  for -en-v6, so it is training data now.
- training/data/hostility.id.train.v1.jsonl (300), v2, v3, v4 and v5 (400 each): Indonesian replies,
  hostile or calm (MIT, ours), written independently of evals/datasets/tone/hostility.id.v1 to v5. v3, v4
  and v5 (three writers) are mostly hostility dressed in courtesy (condescension, mock thanks, veiled
  blame and threats, public shaming) and firm but respectful near-misses.
- training/data/hostility.id.train.v6a.jsonl and v6b (200 each, MIT, ours): a fourth writer, aimed at the
  two kinds -id-v5 got wrong on the sets below: contempt behind apologies and emoji, and calm replies in
  warm casual slang with emoji or firm formal ones.
- training/data/hostility.id.train.v7a.jsonl and v7b (200 each, MIT, ours): two more writers, aimed at what
  -id-v6 got wrong on hostility.id.v6: contempt behind friendly cues (veiled legal and account threats,
  ironic praise of the customer, mock advice), and calm replies in warm slang, gentle mentions of a cause
  on the customer's side and patient re-explanations.
- training/data/hostility.id.train.v8a.jsonl and v8b (200 each, MIT, ours): two more writers; v8a aimed at
  what -id-v7 got wrong on hostility.id.v7 (formal mockery and innuendo, cheerful mockery of a small order,
  veiled threats citing the customer's data, a debt exposed to shame; warm advice and price explanations
  with a cheaper option that are calm); v8b regional flavour, one-liners, long formal letters, small
  businesses' review replies, e-wallet and bank chat.
- evals/datasets/tone/hostility.id.v3 to v7 (160 each, MIT, ours): the unseen checks of -id-v3 to
  -id-v7; their misses were read for the next version, so they are training data now. hostility.id.v8 and
  v9 (an eighth writer) are the unseen checks and are never trained on.
- The sample pack's approved replies and playbook blocks (knowledge/), good by definition.
- brand-replies-twitter (IBM twitter-customer-care-document-prediction, EMNLP 2020, Apache-2.0): real
  agents' replies, English only, read from --data and never copied; optional.
- English only, as negatives: TweetEval offensive (OLID; Zampieri et al. 2019) non-offensive tweets,
  TweetEval irony (Van Hee et al. 2018) non-ironic tweets, and the Stanford Politeness Corpus's polite
  requests (Danescu-Niculescu-Mizil et al. 2013, Apache-2.0). TweetEval states no licence of its own
  (research use, under Twitter's terms). Read from --data, never copied.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from train_tone_signals import approved_replies, fit_pair, pair_weights, scores

from service.adapters.embedder import OnnxEmbedder
from service.knowledge.pack import BLOCK_KEYS, load_pack
from service.models import Language
from service.tone.learned import HASH_FEATURES, MODEL_DIR

HERE = Path(__file__).resolve().parent / "data"
CRITERIA = {  # criterion -> signal name
    "no_hostility": "hostile", "courteous": "discourteous", "no_sarcasm": "sarcastic",
    "no_blame": "blaming", "no_public_argument": "arguing",
}  # fmt: skip
BLENDS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.8)
MAX_AGENT_FLAGS = 0.005
# en v2: ordinary tweets and requests from the public corpora joined as negatives (v1 flagged many of them);
# id v2: 400 more hostile-or-calm replies (hostility.id.train.v2); id v3: 400 more, mostly polite-looking
# contempt and respectful near-misses (hostility.id.train.v3); id v4: 400 more of those, from another writer;
# id v5: 400 more from a third writer (hostility.id.train.v5: named mechanisms of contempt, paired near-misses)
# en v3: 400 more English replies from another writer (replies.en.train.v2: subtle failures of each of
# the five criteria and near-misses that are fine)
# en v4: 400 more from a third writer (replies.en.train.v3: other Englishes and registers, other sectors)
# id v6: 400 more from a fourth writer (hostility.id.train.v6a and v6b: contempt behind apologies and emoji,
# warm casual slang and firm replies that are calm), and the evaluation sets hostility.id.v3, v4 and v5, whose
# misses were read for this version: they are development data now, and hostility.id.v6 is the unseen check
# id v7: 400 more from a fifth and sixth writer (hostility.id.train.v7a: contempt behind friendly cues, veiled
# legal and account threats, ironic praise, mock advice; v7b: calm warm slang, gentle customer-side causes,
# patient re-explanations), and hostility.id.v6, whose misses were read for this version; hostility.id.v7 is
# the unseen check
# en v6: 400 more from two writers aimed at what -en-v4 got wrong on replies.en.tone.v2 (replies.en.train.v5a:
# subtle sarcasm and curtness, warm replies that are fine; v5b: calm deflection of blame, public argument by
# evidence, open threats, partners named with ownership), and replies.en.tone.v2 itself, whose misses were
# read for this version; replies.en.tone.v3 is the unseen check. (en v5, a fifth writer's untargeted 400
# replies, did worse on v2 and was never shipped.)
# en v7: 400 warm replies to praise, thanks and banter from two writers (training/data/warm.en.train.v1: all
# good; v1b: 150 good, 50 sarcastic or passive-aggressive behind a friendly surface). -en-v6 flagged sincere
# warmth ("Aww, thank you, Kak!", "Keep smashing those Tuesdays.") as sarcastic, hostile or discourteous;
# evals/datasets/tone/warm.en.v1, from a third writer, chose between configurations, and warm.en.v2, from a
# fourth, is the unseen check.
# en v8: 400 more from two writers (training/data/replies.en.train.v8a: discourtesy in its forms, curt,
# stonewalling, condescending, lecturing, impatient, with courteous near-misses; v8b: all five criteria in
# registers the earlier sets had little of, long help-desk emails, small businesses' review replies, other
# Englishes). -en-v7's courtesy signal had a cross-validated F1 of 0.59 and, on the unseen replies of
# replies.en.tone.v3, precision 0.47 and recall 0.35; evals/datasets/tone/replies.en.tone.v4, from a
# fifth writer, is a second unseen check beside v3.
# en v9: replies.en.tone.v4, whose misses were read for this version (veiled threats and snide asides behind an
# apology, mock sympathy, blame passed calmly to couriers, platforms, tools or the customer, public argument by
# citing records; false alarms on banter replying to praise and on the brand owning a duty, "you should have had
# a message from us"), and 400 replies from two more writers aimed at those (replies.en.train.v9a: contempt
# and sarcasm behind courtesy, with warm banter, good-humoured and compassionate replies that are fine; v9b:
# calm blame and argument by records, with ownership, neutral causes and private corrections that are fine).
# replies.en.tone.v3 and v5 are the unseen checks.
# id v8: hostility.id.v7, whose misses were read for this version (formal mockery and innuendo, cheerful
# mockery of a small order, veiled threats citing the customer's data, a debt exposed to shame; false alarms on
# warm advice and on explaining a price with a cheaper option), and 400 more from two writers
# (hostility.id.train.v8a: aimed at those; v8b: regional flavour, one-liners, long formal letters, small
# businesses' review replies, e-wallet and bank chat); hostility.id.v8 is the unseen check
# id v9: the same data; the n-grams in the split scheme (service/tone/learned.py, hashed_ngrams: characters and
# words normalised apart, so words weigh as much as characters). Leaving one writer's hostility set out at a
# time (hostility.id.v3 to v7, each without the sets later written at its misses; the n-grams alone, 0.46
# chosen on hostility.id.v1 and v2; training/probe_id_writers.py): mean accuracy 0.9662 against 0.9500 joint. hostility.id.v8 and v9 (an
# eighth writer) are the unseen checks.
# en v10: the same data as en v9; the n-grams split as in id v9. Leaving one writer's file out at a time
# (training/probe_en_writers.py, thirteen files, without the batches written at a held-out set's misses), the
# split n-grams' average precision was higher for every criterion (blend 0.4: hostility 0.485 -> 0.509,
# discourtesy 0.616 -> 0.637, sarcasm 0.517 -> 0.542, blame 0.627 -> 0.661, argument 0.696 -> 0.722). replies.en.tone.v3 and v5 and warm.en.v2 are the unseen checks.
VERSIONS = {"en": "v10", "id": "v9"}
# hashed_ngrams' scheme of both languages' reply signals (the corpus-trained tone-signals-v5 and -v6 stay joint: on
# tweets the two tie)
NGRAMS = "split"
EVAL_SETS = Path(__file__).resolve().parent.parent / "evals/datasets/tone"
REPLIES = {"en": (*(HERE / f"replies.en.train.v{k}.jsonl" for k in ("1", "2", "3", "5a", "5b", "8a", "8b", "9a", "9b")),
                  EVAL_SETS / "replies.en.tone.v2.jsonl", EVAL_SETS / "replies.en.tone.v4.jsonl", HERE / "warm.en.train.v1.jsonl", HERE / "warm.en.train.v1b.jsonl"),
           "id": (HERE / "replies.id.train.v1.jsonl",)}  # fmt: skip
HOSTILITY_ID = (*(HERE / f"hostility.id.train.v{k}.jsonl" for k in (1, 2, 3, 4, 5)),
                *(HERE / f"hostility.id.train.v{k}.jsonl" for k in ("6a", "6b", "7a", "7b", "8a", "8b")),
                *(EVAL_SETS / f"hostility.id.v{k}.jsonl" for k in (3, 4, 5, 6, 7)))  # fmt: skip
# Every row of these trains the hostility signal alone (all but v1 and v2, whose calm replies are plain
# calm replies and train the other signals too).
HOSTILITY_ONLY = set(HOSTILITY_ID) - {HERE / f"hostility.id.train.v{k}.jsonl" for k in (1, 2)}
# How much each known-good reply counts, per language: the weight with the best mean 5-fold CV F1 of the five
# signals. en (with replies.en.train.v1-v3): 1 0.581, 3 0.614, 5 0.623, 10 0.619 (v1-v2 alone had picked 3);
# id: 1 0.680, 3 0.666.
GOOD_WEIGHT = {"en": 5.0, "id": 1.0}
MAX_OWN_FLAGS = 0.005  # of the composer's sentences and approved replies, held out; revision replaces the rest


def read_jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pack_sentences(language: str) -> list[str]:
    """The composer's raw material in one language: the playbooks' blocks, with placeholders filled."""
    pack = load_pack(Path("knowledge"))
    blocks = [item for pb in pack.playbooks.values() for key in BLOCK_KEYS
              for item in getattr(pb.reply.get(Language(language)), key, None) or [] if isinstance(item, str)]  # fmt: skip
    fills = {"en": [("your", "your order"), ("you", "you")], "id": [("Kakak", "pesanan Kakak"), ("Bapak/Ibu", "pesanan Bapak/Ibu")]}
    problem = {"en": "your order arrived late", "id": "pesanan terlambat"}[language]
    return [b.replace("{you}", you).replace("{order}", order).replace("{problem}", problem)
            for you, order in fills[language] for b in dict.fromkeys(blocks)]  # fmt: skip


def public_negatives(data: Path) -> dict[str, list[str]]:
    """Texts from the public corpora that are not what a criterion's signal looks for: non-offensive
    tweets for hostility, non-ironic tweets for sarcasm, polite requests for discourtesy. They are
    negatives only, so the reply signals learn that ordinary tweets and requests are not bad replies
    (the corpus-trained signals in tone-signals-v6 judge that kind of text)."""
    def texts(path: Path, label: str) -> list[str]:
        return [r["text"] for r in read_jsonl(path) if r["label"] == label] if path.exists() else []

    polite = texts(data / "politeness/wikipedia.dev.jsonl", "polite") + texts(data / "politeness/stack-exchange.dev.jsonl", "polite")
    return {"no_hostility": texts(data / "tweeteval-offensive/train.jsonl", "not-offensive"),
            "no_sarcasm": texts(data / "tweeteval-irony/train.jsonl", "non_irony"), "courteous": polite}  # fmt: skip


def train_language(
    language: str, embedder: OnnxEmbedder, agents: list[str], negatives: dict[str, list[str]], good_weight: float = 1.0
) -> tuple[dict, dict]:  # type: ignore[type-arg]
    rows = [r for f in REPLIES[language] for r in read_jsonl(f)]
    texts = [r["text"] for r in rows]
    fails = [set(r["fail"]) for r in rows]
    hostility_only = [False] * len(rows)
    if language == "id":  # the hostile-or-calm sets: hostility labels only
        for f in HOSTILITY_ID:
            extra = read_jsonl(f)
            texts += [r["text"] for r in extra]
            fails += [{"no_hostility"} if r["label"] == "hostile" else set() for r in extra]
            # A hostile reply from those sets may break other criteria too, unlabelled: it trains hostility
            # only. So do the calm replies of v3 onwards: near-misses (firm declines, corrections, "our record
            # shows it was delivered") that a reader may well take for blame or argument.
            hostility_only += [r["label"] == "hostile" or f in HOSTILITY_ONLY for r in extra]
    own = list(dict.fromkeys(approved_replies(language) + pack_sentences(language)))
    train_agents = [t for i, t in enumerate(agents) if i % 2]
    held_agents = [t for i, t in enumerate(agents) if not i % 2]
    good = own + train_agents
    base_texts = texts + good
    base_vectors = np.asarray(embedder.embed(base_texts), dtype=np.float32)
    held_vecs = np.asarray(embedder.embed(held_agents), dtype=np.float32) if held_agents else None
    neg_vectors = {c: np.asarray(embedder.embed(t), dtype=np.float32) for c, t in negatives.items() if t}
    weights: dict[str, np.ndarray] = {}
    meta: dict[str, dict] = {}  # type: ignore[type-arg]
    for criterion, name in CRITERIA.items():
        signal = f"reply_{name}_{language}"  # unique across languages: the rubric sets each one's threshold
        t0 = time.time()
        outside = negatives.get(criterion, [])
        keep = [i for i in range(len(texts)) if criterion == "no_hostility" or not hostility_only[i]]
        keep += list(range(len(texts), len(base_texts)))
        n_labelled = sum(1 for i in keep if i < len(texts))
        all_texts = [base_texts[i] for i in keep] + outside
        vectors = np.vstack([base_vectors[keep], neg_vectors[criterion]]) if outside else base_vectors[keep]
        y = np.asarray([criterion in fails[i] for i in keep if i < len(texts)] + [False] * (len(good) + len(outside)), dtype=int)
        # the known-good replies (the pack's and agents') count GOOD_WEIGHT times, labelled and public rows once
        weight = np.ones(len(y))
        weight[n_labelled : n_labelled + len(good)] = good_weight
        p_sem, p_lex = np.zeros(len(y)), np.zeros(len(y))
        for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(vectors, y):
            s, lx = scores(fit_pair([all_texts[i] for i in a], vectors[a], y[a], weight[a], NGRAMS),
                           [all_texts[i] for i in b], vectors[b], NGRAMS)  # fmt: skip
            p_sem[b], p_lex[b] = s, lx
        models = fit_pair(all_texts, vectors, y, weight, NGRAMS)
        h_sem, h_lex = scores(models, held_agents, held_vecs, NGRAMS) if held_vecs is not None else (np.zeros(0), np.zeros(0))
        best = None
        for blend in BLENDS:
            p = blend * p_sem + (1 - blend) * p_lex
            # The composer's own sentences and approved replies must pass (held-out probabilities for them
            # too, so the cut is not fitted to sentences the model has memorised), and so must almost all
            # unseen real agents' replies.
            floor = float(np.quantile(p[n_labelled : n_labelled + len(own)], 1 - MAX_OWN_FLAGS))
            if outside:  # ordinary tweets and requests, held out: at most 5% flagged
                floor = max(floor, float(np.quantile(p[n_labelled + len(good) :], 0.95)))
            held = blend * h_sem + (1 - blend) * h_lex
            if len(held):
                floor = max(floor, float(np.quantile(held, 1 - MAX_AGENT_FLAGS)))
            for threshold in np.round(np.arange(0.2, 0.96, 0.01), 2):
                if threshold <= floor:
                    continue
                pred = p[:n_labelled] >= threshold
                f1 = f1_score(y[:n_labelled], pred)
                key = (round(f1, 4), -abs(threshold - 0.5))
                if best is None or key > best["key"]:
                    tp = int(np.sum(pred & (y[:n_labelled] == 1)))
                    best = {"key": key, "blend": blend, "threshold": float(threshold), "f1": round(float(f1), 4),
                            "precision": round(tp / max(1, int(pred.sum())), 4),
                            "recall": round(tp / max(1, int(y[:n_labelled].sum())), 4),
                            "unseen_agent_replies_pass": round(float(np.mean(held < threshold)), 4) if len(held) else None}  # fmt: skip
        assert best is not None, criterion
        # How many of the composer's own sentences and approved replies (held out) each cut would flag: the
        # rubric may set a threshold other than this script's, and this is what it costs there.
        own_p = (best["blend"] * p_sem + (1 - best["blend"]) * p_lex)[n_labelled : n_labelled + len(own)]
        own_flags = {f"{t:.2f}": int(np.sum(own_p >= t)) for t in np.round(np.arange(0.4, 0.71, 0.02), 2)}
        weights |= pair_weights(signal, models)
        meta[signal] = {"criterion": criterion, "blend": best["blend"], "threshold": best["threshold"],
                        "validation": "5-fold cross-validation on the labelled replies", "f1": best["f1"],
                        "precision": best["precision"], "recall": best["recall"],
                        "unseen_agent_replies_pass": best["unseen_agent_replies_pass"],
                        "positives": int(y[:n_labelled].sum()), "train_rows": len(all_texts),
                        "public_negatives": len(outside), "own_sentences": len(own),
                        "own_flagged_held_out_by_threshold": own_flags,
                        "seconds": round(time.time() - t0, 1)}  # fmt: skip
        print(language, signal, meta[signal], flush=True)
    return weights, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--languages", default="en,id")
    parser.add_argument("--good-weight", type=float, default=None,
                        help="how much each known-good reply counts (default: GOOD_WEIGHT of the language)")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = parser.parse_args()
    embedder = OnnxEmbedder(cache_dir=Path("var/models"))
    agents_file = args.data / "brand-replies-twitter/dev.jsonl"
    agents = [r["text"] for r in read_jsonl(agents_file)] if agents_file.exists() else []
    if not agents:
        print(f"{agents_file} not found: thresholds are set without real agents' replies")
    for language in args.languages.split(","):
        english = language == "en"
        weights, meta = train_language(language, embedder, agents if english else [],
                                       public_negatives(args.data) if english else {},
                                       GOOD_WEIGHT[language] if args.good_weight is None else args.good_weight)  # fmt: skip
        if args.dry_run:
            continue
        name = f"reply-signals-{language}-{VERSIONS[language]}"
        out = MODEL_DIR / name
        np.savez_compressed(out.with_suffix(".npz"), **weights)
        info = {"version": name, "embedding_model": embedder.name, "hash_features": HASH_FEATURES, "ngrams": NGRAMS,
                "language": language, "signals": meta, "sources": __doc__.split("Data:")[1].strip()}  # fmt: skip
        out.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
