"""The issue-type model weighs its two halves by what the training examples show, not by a fixed rule."""

from __future__ import annotations

import random

import numpy as np

from service.drafting.classify import IssueModel, choose_blend, unclear_threshold

LABELS = ["late", "charged", "rude", "broken"]
WORDS = {"late": "delivery late waiting", "charged": "charged twice billing", "rude": "rude courier shouted",
         "broken": "broken damaged cracked"}  # fmt: skip


def _data(*, words_carry_label: bool, vectors_carry_label: bool, per_label: int = 12):
    rng = np.random.default_rng(0)
    rand = random.Random(0)
    filler = ["the", "order", "today", "please", "again", "app", "store", "my", "this", "week"]
    centres = rng.normal(size=(len(LABELS), 32))
    texts, labels, vectors = [], [], []
    for k, label in enumerate(LABELS):
        for _ in range(per_label):
            # informative words name the label in most examples, not all
            named = words_carry_label and rand.random() < 0.75
            words = rand.sample(filler, 5) + (WORDS[label].split()[:1] if named else rand.sample(filler, 1))
            rand.shuffle(words)
            texts.append(" ".join(words))
            labels.append(label)
            # informative vectors sit near their label's centre, but not so near that any blend is perfect
            v = (centres[k] if vectors_carry_label else 0) + rng.normal(scale=0.8 if vectors_carry_label else 1, size=32)
            vectors.append(v / np.linalg.norm(v))
    return texts, labels, np.asarray(vectors, dtype=np.float32)


def test_the_blend_follows_the_half_that_knows_the_labels() -> None:
    texts, labels, vectors = _data(words_carry_label=False, vectors_carry_label=True)
    assert choose_blend(texts, labels, vectors) > 0.5  # only the embeddings separate the labels
    texts, labels, vectors = _data(words_carry_label=True, vectors_carry_label=False)
    assert choose_blend(texts, labels, vectors) < 0.5  # only the words do


def test_too_few_examples_keep_the_even_blend() -> None:
    texts, labels, vectors = _data(words_carry_label=False, vectors_carry_label=True, per_label=1)
    assert choose_blend(texts, labels, vectors) == 0.5


def test_label_descriptions_teach_the_embedding_half() -> None:
    texts, labels, vectors = _data(words_carry_label=False, vectors_carry_label=True, per_label=4)
    # Descriptions embedded at each label's centre are extra examples for the embedding half only:
    centre = {lab: vectors[[i for i, y in enumerate(labels) if y == lab]].mean(axis=0) for lab in LABELS}
    described = [(lab, centre[lab]) for lab in LABELS for _ in range(30)]
    plain = IssueModel.fit(texts, labels, vectors)
    with_names = IssueModel.fit(texts, labels, vectors, label_texts=described)
    probe = centre["rude"]
    p_plain = plain.semantic.predict_proba(probe[None, :])[0][plain.labels.index("rude")]
    p_named = with_names.semantic.predict_proba(probe[None, :])[0][with_names.labels.index("rude")]
    assert p_named > p_plain
    assert with_names.labels == plain.labels == sorted(LABELS)


def test_unclear_below_the_confidence_where_held_out_guesses_were_mostly_wrong() -> None:
    # 40 held-out guesses over 2 labels: the unsure ones (top probability 0.52) are mostly wrong.
    sure_right = [[0.9, 0.1]] * 30
    unsure = [[0.52, 0.48]] * 10
    probabilities = np.asarray(sure_right + unsure)
    truth = np.asarray([0] * 30 + [1] * 7 + [0] * 3)  # 3 of the 10 unsure guesses right
    assert unclear_threshold(probabilities, truth) == 0.55  # just above 0.52, below the sure ones
    truth_all_right = np.asarray([0] * 40)
    assert unclear_threshold(probabilities, truth_all_right) == 0.0
    # too few unsure guesses to judge: no threshold
    assert unclear_threshold(probabilities[25:34], np.asarray([0] * 5 + [1] * 4), min_count=5) == 0.0


class KeywordEncoder:
    """A stand-in for a tuned embedding model: each text lands on the axis of the label word it holds."""

    name = "keyword-encoder"

    def embed(self, texts):  # type: ignore[no-untyped-def]
        out = []
        for t in texts:
            v = np.asarray([1.0 if any(w in t.split() for w in WORDS[lab].split()) else 0.0 for lab in LABELS] + [0.1])
            out.append(list(v / np.linalg.norm(v)))
        return out

    def embed_layers(self, texts, layers):  # type: ignore[no-untyped-def]
        return {layer: self.embed(texts) for layer in layers}  # every layer alike: a stand-in


class FakeTuner:
    """Records tunes; ``load`` finds only what it tuned and has not lost."""

    recipe = "fake"

    def __init__(self) -> None:
        self.tuned: dict[str, KeywordEncoder] = {}
        self.tunes = 0

    def tune(self, texts, labels):  # type: ignore[no-untyped-def]
        self.tunes += 1
        ref = f"tuned-{self.tunes}"
        self.tuned[ref] = KeywordEncoder()
        return ref, self.tuned[ref]

    def load(self, ref):  # type: ignore[no-untyped-def]
        return self.tuned.get(ref)


def test_a_tuned_classifier_reads_its_own_encoder_not_the_base_embedding() -> None:
    texts, labels, _ = _data(words_carry_label=True, vectors_carry_label=False)
    tuner = FakeTuner()
    model = IssueModel.fit_tuned(texts, labels, tuner, names=[(lab, WORDS[lab]) for lab in LABELS])
    assert model.encoder_ref == "tuned-1"
    noise = np.random.default_rng(1).normal(size=(1, 32)).astype(np.float32)  # a base embedding: ignored
    probs = model.probabilities_many(["courier was rude"], noise)[0]
    assert model.labels[int(np.argmax(probs))] == "rude"
    # the embedding half alone, on the encoder's vector, already knows the label
    sem = model.semantic.predict_proba(np.asarray(KeywordEncoder().embed(["courier was rude"])))[0]
    assert model.labels[int(np.argmax(sem))] == "rude"


def test_a_cached_tuned_classifier_reloads_its_encoder_and_retrains_when_it_is_gone(tmp_path, pack) -> None:  # type: ignore[no-untyped-def]
    import pickle

    tuner = FakeTuner()
    taxonomy = pack.taxonomy.model_copy(update={"issue_types": pack.taxonomy.issue_types[:3]})  # quick to train
    first = IssueModel.cached(taxonomy, KeywordEncoder(), tmp_path, tuner)
    assert tuner.tunes == 1 and first.encoder is not None
    # pickled without the encoder: it cannot classify until the encoder is loaded again
    bare = pickle.loads(pickle.dumps(first))
    assert bare.encoder is None and bare.encoder_ref == first.encoder_ref
    try:
        bare.probabilities("late again", [0.0] * 5)
        raise AssertionError("a tuned classifier without its encoder must not guess")
    except RuntimeError:
        pass
    again = IssueModel.cached(taxonomy, KeywordEncoder(), tmp_path, tuner)
    assert tuner.tunes == 1 and again.encoder is tuner.tuned[first.encoder_ref]  # loaded, not retrained
    tuner.tuned.clear()  # the tuned folder was deleted
    third = IssueModel.cached(taxonomy, KeywordEncoder(), tmp_path, tuner)
    assert tuner.tunes == 2 and third.encoder is not None
    # a cache written without tuning is not mistaken for a tuned one, and the other way round
    plain = IssueModel.cached(taxonomy, KeywordEncoder(), tmp_path)
    assert plain.encoder_ref is None
