"""Classify a complaint: issue type (a model trained on the pack's examples), severity, sentiment,
language, cause, fault and signals.

The issue-type model is trained on the taxonomy's labelled examples when the service starts, so a
brand's own pack gives a brand's own classifier.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, make_union

from service.drafting.context import DraftContext
from service.knowledge.pack import Taxonomy
from service.language import detect as detect_language
from service.models import Cause, Classification, Complaint, IssueGuess, Language, Sentiment, Severity
from service.ports import Embedder, EncoderTuner

log = logging.getLogger(__name__)
MODEL_VERSION = "ensemble-v6"  # bump when IssueModel's features or training change
# The embedding half reads the sentence embedding beside the mean token states after this layer of the
# embedding model, from the same run. The sentence embedding places a text by meaning; the earlier layer
# keeps more of how it is phrased, and whether a tweet is a complaint is partly how it is phrased. With
# 5-fold cross-validation on complaints-twitter, F1 of `complaint` rose from 0.816 to 0.8325 and the
# pack's examples from 0.722 to 0.736; CFPB 0.594 to 0.591, banking77 10-shot (mean of 3 seeds) 0.847 to
# 0.8435, Indonesian sentiment 0.852 to 0.8515 (README, "Evaluate on your own data").
STYLE_LAYER = 4
# The embedding model was trained on English, so Indonesian texts lean on the n-grams: their weight for
# the embedding model is ID_SHIFT below the blend chosen for English. On our own complaint cases (280,
# evals/datasets), 0.5 / 0.3 took issue-type accuracy from 0.807 (0.5 for both) to 0.839.
ID_SHIFT = 0.2
BLEND_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
BLEND_MARGIN = 0.01
ALTERNATIVE_MIN = 0.1  # next likeliest issue types shown to the reviewer from this probability
UNCLEAR_GRID = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def indonesian(texts: Sequence[str]) -> np.ndarray:
    """Which texts read as Indonesian: they lean on the n-grams (ID_SHIFT)."""
    return np.asarray([detect_language(t) == Language.id for t in texts], dtype=bool)


def _weights(is_id: np.ndarray, blend: float) -> np.ndarray:
    return np.where(is_id, blend - ID_SHIFT, blend)


def classifier_features(sentence: Sequence[Sequence[float]], style: Sequence[Sequence[float]]) -> np.ndarray:
    """The embedding half's input: each text's sentence embedding beside its STYLE_LAYER vector (both unit
    length), scaled so the pair is unit length too."""
    return np.hstack([np.asarray(sentence, dtype=np.float32), np.asarray(style, dtype=np.float32)]) / np.float32(np.sqrt(2))


def embed_for_classifier(embedder: Embedder, texts: Sequence[str]) -> tuple[list[list[float]], np.ndarray]:
    """Texts' sentence embeddings (what retrieval reads) and their ``classifier_features``, from one run
    of the model."""
    by_layer = embedder.embed_layers(list(texts), (-1, STYLE_LAYER))
    return by_layer[-1], classifier_features(by_layer[-1], by_layer[STYLE_LAYER])


def classifier_vectors(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """``classifier_features`` of texts, both vectors from one run of the model."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return embed_for_classifier(embedder, texts)[1]


def fit_semantic(vectors: np.ndarray, labels: Sequence[str]) -> LogisticRegression:
    return LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced").fit(vectors, labels)


def _fit_lexical(texts: Sequence[str], labels: Sequence[str]) -> tuple[LogisticRegression, FeatureUnion]:
    vectorizer = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, max_features=200_000),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, max_features=200_000),
    )
    features = vectorizer.fit_transform([t.lower() for t in texts])
    return LogisticRegression(C=30.0, max_iter=3000, class_weight="balanced").fit(features, labels), vectorizer


@dataclass
class HeldOut:
    """Each training example's probabilities from both halves when it was held out of training."""

    is_id: np.ndarray  # which examples read as Indonesian (detected once, used for every blend tried)
    truth: np.ndarray  # column index of each example's label
    semantic: np.ndarray
    lexical: np.ndarray

    def blended(self, blend: float) -> np.ndarray:
        w = _weights(self.is_id, blend)[:, None]
        return np.asarray(w * self.semantic + (1 - w) * self.lexical)


def held_out(texts: Sequence[str], labels: Sequence[str], vectors: np.ndarray, folds: int = 3) -> HeldOut | None:
    """Cross-validated probabilities (3 folds); None when a label has too few examples to hold any out."""
    y = np.asarray(labels)
    classes, counts = np.unique(y, return_counts=True)
    k = min(folds, int(counts.min()))
    if k < 2 or len(classes) < 2:
        return None
    p_sem = np.zeros((len(y), len(classes)))
    p_lex = np.zeros_like(p_sem)
    for fit_idx, held_idx in StratifiedKFold(n_splits=k, shuffle=True, random_state=0).split(vectors, y):
        sem = fit_semantic(vectors[fit_idx], y[fit_idx])
        lex, vectorizer = _fit_lexical([texts[i] for i in fit_idx], y[fit_idx])
        cols = np.searchsorted(classes, sem.classes_)
        p_sem[np.ix_(held_idx, cols)] = sem.predict_proba(vectors[held_idx])
        p_lex[np.ix_(held_idx, cols)] = lex.predict_proba(vectorizer.transform([texts[i].lower() for i in held_idx]))
    return HeldOut(indonesian(texts), np.searchsorted(classes, y), p_sem, p_lex)


def choose_blend(texts: Sequence[str], labels: Sequence[str], vectors: np.ndarray, *,
                 held: HeldOut | None = None) -> float:  # fmt: skip
    """The embedding model's weight that classifies the training examples best when each is held out
    (macro F1, 3-fold cross-validation); 0.5 when a label has too few examples to hold any out, or when
    no weight beats 0.5 by BLEND_MARGIN."""
    held = held or held_out(texts, labels, vectors)
    if held is None:
        return 0.5
    scores = {b: float(f1_score(held.truth, held.blended(b).argmax(axis=1), average="macro")) for b in BLEND_GRID}
    best = max(sorted(scores, key=lambda b: abs(b - 0.5)), key=lambda b: scores[b])
    # Held-out folds of a few hundred examples are noisy: move off the even blend only for a clear gain.
    return best if scores[best] >= scores[0.5] + BLEND_MARGIN else 0.5


def unclear_threshold(probabilities: np.ndarray, truth: np.ndarray, min_count: int = 5) -> float:
    """The confidence below which held-out guesses were wrong more often than right: a guess under it
    is reported as unclear. 0 when even the least confident guesses were mostly right."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    mostly_wrong = [t for t in UNCLEAR_GRID
                    if (confidence < t).sum() >= min_count and correct[confidence < t].mean() < 0.5]  # fmt: skip
    if not mostly_wrong:
        return 0.0
    # The highest such cut, lowered as far as it flags the same training guesses (unseen confidences
    # between them and the cut are not evidence of anything).
    flagged = (confidence < max(mostly_wrong)).sum()
    return next(t for t in UNCLEAR_GRID if (confidence < t).sum() == flagged)


NEGATIVE = re.compile(
    r"\b(?:not|never|no|late|broken|damaged|wrong|worst|terrible|awful|angry|disappointed|refund|charged|"
    r"still|again|missing|rude|useless|scam|spoiled|rotten|sick|hacked|leak|fail\w*|error|problem|issue|"
    r"complain\w*|unacceptable|ridiculous|waiting|lost|cancel\w*|"
    r"tidak|gak|ga|nggak|belum|telat|terlambat|rusak|salah|kecewa|parah|marah|kesal|jelek|busuk|basi|"
    r"hilang|penipu\w*|tipu|bocor|diretas|gagal|error|masalah|lambat|lama|kasar|mana|kapan)\b",
    re.IGNORECASE,
)
POSITIVE = re.compile(
    r"\b(?:thanks?|thank you|great|love|amazing|awesome|excellent|helpful|fast|friendly|appreciate\w*|"
    r"good job|well done|kudos|best|terima ?kasih|makasih|mantap|keren|bagus|cepat|ramah|puas|suka|"
    r"sukses|top|terbaik|membantu|recommend\w*|rekomen\w*|sopan|hemat|lovely|wonderful|kind)\b|👍|❤️|😍|🥰",
    re.IGNORECASE,
)
MISUNDERSTANDING = re.compile(
    r"\b(?:i thought|is it true|i heard|rumou?r|going around|viral|hoax|hoaks|katanya|apa benar|"
    r"beneran|dengar(?:-dengar)?|kabarnya|isu)\b",
    re.IGNORECASE,
)
SARCASM_CUE = re.compile(r"\b(?:great job|thanks a lot|wow|amazing service|hebat|mantap banget)\b", re.I)


@dataclass
class IssueModel:
    """Two logistic regressions trained on labelled examples, their probabilities blended: one over the
    embeddings (``classifier_features``: the sentence embedding for meaning across phrasings, beside an
    earlier layer's vector for how it is phrased) and one over character and word n-grams (spelling,
    slang and Indonesian, where the English-trained embedding model is weak).

    The service trains it on the pack's taxonomy; ``tenang eval classify`` trains the same model on any
    labelled file, so what a team measures is what the service runs. Class weights are balanced, so a
    rare label (complaints among chatter) is not drowned by a common one: on complaints-twitter
    (5-fold) that lifted F1 of `complaint` from 0.807 to 0.816.

    How much each model counts is chosen on the training examples themselves, by cross-validation
    (``choose_blend``): with ten examples per label the n-grams know little and the embeddings should
    lead; with thousands the n-grams catch up. Names and descriptions of the labels, when given, are
    extra examples for the embedding model.

    With an ``EncoderTuner`` (``fit_tuned``), the embedding half reads a copy of the embedding model
    fine-tuned on the examples themselves (``encoder``); texts are then embedded again with it (its
    sentence embedding alone), and the base features passed in are not used. Retrieval keeps the base
    model.
    """

    labels: list[str]
    semantic: LogisticRegression
    lexical: LogisticRegression
    vectorizer: FeatureUnion
    blend: float = 0.5  # weight of the embedding model for English; Indonesian gets ID_SHIFT less
    unclear_below: float = 0.0  # a top probability under this is reported as unclear (unclear_threshold)
    encoder_ref: str | None = None  # the tuned embedding model (EncoderTuner.load), when there is one
    encoder: Embedder | None = field(default=None, repr=False, compare=False)  # not pickled: loaded by ref

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "encoder"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.encoder = None

    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Sequence[str], vectors: np.ndarray, *,
        label_texts: Sequence[tuple[str, np.ndarray]] = (),
    ) -> IssueModel:  # fmt: skip
        """Train on texts with their labels and their (already computed) ``classifier_vectors``;
        ``label_texts`` are (label, vector) pairs of label names or descriptions (``embed_names``)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        held = held_out(texts, labels, vectors)
        blend = choose_blend(texts, labels, vectors, held=held)
        unclear_below = unclear_threshold(held.blended(blend), held.truth) if held is not None else 0.0
        known = set(labels)
        extra = [(lab, v) for lab, v in label_texts if lab in known]
        sem_x = np.vstack([vectors, *[v[None, :] for _, v in extra]]) if extra else vectors
        semantic = fit_semantic(sem_x, [*labels, *[lab for lab, _ in extra]])
        lexical, vectorizer = _fit_lexical(texts, labels)
        assert list(semantic.classes_) == list(lexical.classes_)
        return cls(labels=list(semantic.classes_), semantic=semantic, lexical=lexical, vectorizer=vectorizer,
                   blend=blend, unclear_below=unclear_below)  # fmt: skip

    @classmethod
    def fit_tuned(cls, texts: Sequence[str], labels: Sequence[str], tuner: EncoderTuner, *,
                  names: Sequence[tuple[str, str]] = ()) -> IssueModel:  # fmt: skip
        """Tune the embedding model on the examples, then fit as ``fit`` does on the tuned embeddings
        (``names``: (label, name) pairs, embedded with the tuned model as extra examples).

        The blend and the unclear cut are still chosen by cross-validation, on embeddings from a model
        that has seen every example: the held-out guesses of the embedding half look better than they
        are, so the blend leans to it (0.9 on complaints-twitter, where it was also the better choice)."""
        ref, encoder = tuner.tune(texts, labels)
        vectors = np.asarray(encoder.embed(list(texts)), dtype=np.float32)
        # the names with the tuned model too, its sentence embedding alone like the texts
        named = _paired(names, np.asarray(encoder.embed([n for _, n in names]), dtype=np.float32)) if names else []
        model = cls.fit(texts, labels, vectors, label_texts=named)
        model.encoder_ref, model.encoder = ref, encoder
        return model

    @classmethod
    def cached(cls, taxonomy: Taxonomy, embedder: Embedder, cache_dir: Path | None,
               tuner: EncoderTuner | None = None) -> IssueModel:  # fmt: skip
        """Train on the taxonomy, or load the model trained before on the very same taxonomy, model
        and code (the file name is their hash): a brand that edits its taxonomy gets a new model."""
        if cache_dir is None:
            return cls.train(taxonomy, embedder, tuner)
        tuned = tuner.recipe if tuner is not None else "base"
        key = hashlib.sha256(
            f"{MODEL_VERSION}|{STYLE_LAYER}|{getattr(embedder, 'name', '')}|{tuned}|{taxonomy.model_dump_json()}".encode()
        ).hexdigest()[:20]
        path = Path(cache_dir) / f"issue-model-{key}.joblib"
        if path.exists():
            try:
                model = joblib.load(path)
                if isinstance(model, cls) and (model.encoder_ref is None) == (tuner is None):
                    if tuner is None:
                        return model
                    model.encoder = tuner.load(model.encoder_ref)
                    if model.encoder is not None:
                        return model
                    log.warning("the tuned model %s is gone; retraining", model.encoder_ref)
            except Exception:  # a corrupt or foreign file: retrain over it
                log.warning("could not load %s; retraining", path)
        model = cls.train(taxonomy, embedder, tuner)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            joblib.dump(model, path)
        except OSError as exc:
            log.warning("could not cache the classifier at %s: %s", path, exc)
        return model

    @classmethod
    def train(cls, taxonomy: Taxonomy, embedder: Embedder, tuner: EncoderTuner | None = None) -> IssueModel:
        texts = [ex.text for t in taxonomy.issue_types for ex in t.examples]
        y = [t.id for t in taxonomy.issue_types for _ in t.examples]
        if tuner is not None:
            return cls.fit_tuned(texts, y, tuner, names=label_names(taxonomy))
        return cls.fit(texts, y, classifier_vectors(embedder, texts), label_texts=embed_names(embedder, label_names(taxonomy)))

    def probabilities_many(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Probabilities of each label for texts with their ``classifier_vectors`` (a tuned model embeds
        the texts again with its own encoder)."""
        if self.encoder_ref is not None:
            if self.encoder is None:
                raise RuntimeError("this classifier reads a tuned embedding model that was not loaded")
            vectors = np.asarray(self.encoder.embed(list(texts)), dtype=np.float32)
        p_sem = self.semantic.predict_proba(np.asarray(vectors, dtype=np.float32))
        p_lex = self.lexical.predict_proba(self.vectorizer.transform([t.lower() for t in texts]))
        w = _weights(indonesian(texts), self.blend)[:, None]
        return np.asarray(w * p_sem + (1 - w) * p_lex)

    def probabilities(self, text: str, features: Sequence[float] | np.ndarray) -> np.ndarray:
        return self.probabilities_many([text], np.asarray([features], dtype=np.float32))[0]

    def predict(self, text: str, features: Sequence[float] | np.ndarray) -> tuple[str, float]:
        probs = self.probabilities(text, features)
        best = int(np.argmax(probs))
        return self.labels[best], float(probs[best])


def label_names(taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """(issue type, name) for each language's name of each issue type: extra examples for the embedding
    half. (The longer descriptions were tried too; they added nothing on our own cases.)"""
    return [(t.id, name) for t in taxonomy.issue_types for name in dict.fromkeys(t.label.values())]


def embed_names(embedder: Embedder, names: Sequence[tuple[str, str]]) -> list[tuple[str, np.ndarray]]:
    """(label, name) pairs as the (label, vector) pairs ``IssueModel.fit`` takes as extra examples."""
    return _paired(names, classifier_vectors(embedder, [name for _, name in names])) if names else []


def _paired(names: Sequence[tuple[str, str]], vectors: np.ndarray) -> list[tuple[str, np.ndarray]]:
    return [(label, v) for (label, _), v in zip(names, vectors, strict=True)]


def detect_signals(text: str, context: DraftContext, taxonomy: Taxonomy) -> list[str]:
    found: list[str] = []
    for signal in taxonomy.signals:
        pats = [p for ps in signal.patterns.values() for p in ps]
        if any(re.search(p, text, re.IGNORECASE) for p in pats):
            found.append(signal.id)
    prior_customer_msgs = sum(1 for m in context.thread if m.role == "customer")
    if prior_customer_msgs >= 2 and "repeat_contact" not in found:
        found.append("repeat_contact")
    return found


def _reads_as_complaint(text: str, confidence: float) -> bool:
    """Thanks outweighed by negative cues or read as sarcasm, or a weak guess at a text with only
    negative cues: not praise."""
    neg, pos = len(NEGATIVE.findall(text)), len(POSITIVE.findall(text))
    if pos:
        return (neg >= 2 and neg > pos) or (neg >= 1 and bool(SARCASM_CUE.search(text)))
    return confidence < 0.3 and neg >= 1


def _sentiment(text: str, is_complaint: bool) -> Sentiment:
    neg = len(NEGATIVE.findall(text))
    pos = len(POSITIVE.findall(text))
    if SARCASM_CUE.search(text) and neg:
        return Sentiment.negative
    if is_complaint:
        return Sentiment.negative if neg >= pos or neg >= 2 else Sentiment.neutral
    if pos > neg:
        return Sentiment.positive
    return Sentiment.negative if neg > pos + 1 else Sentiment.neutral


def _severity(
    base: Severity, signals: list[str], taxonomy: Taxonomy, complaint: Complaint, is_complaint: bool
) -> Severity:
    rank = base.rank
    floors = {s.id: s.min_severity.rank for s in taxonomy.signals}
    for sig in signals:
        rank = max(rank, floors.get(sig, 0))
    followers = complaint.author.followers if complaint.author and complaint.author.followers else 0
    public = complaint.public
    if is_complaint and public:
        if followers >= 100_000:
            rank = max(rank, Severity.high.rank)
        elif followers >= 10_000:
            rank = min(rank + 1, Severity.critical.rank)
    return list(Severity)[rank]


def classify(
    *,
    complaint: Complaint,
    text: str,
    features: Sequence[float] | np.ndarray,
    language: Language,
    context: DraftContext,
    taxonomy: Taxonomy,
    model: IssueModel,
) -> Classification:
    """Classify a (redacted) complaint text whose ``classifier_features`` have already been computed."""
    probs = model.probabilities(text, features)
    ranked = sorted(zip(model.labels, probs, strict=True), key=lambda lp: float(lp[1]), reverse=True)
    issue_id, confidence = ranked[0][0], float(ranked[0][1])
    issue = taxonomy.issue(issue_id)
    if not issue.is_complaint and _reads_as_complaint(text, confidence):
        # "Wow great job, third late delivery this month" is not praise: take the likeliest complaint type.
        issue_id, p = next((lab, p) for lab, p in ranked if taxonomy.issue(lab).is_complaint)
        confidence, issue = float(p), taxonomy.issue(issue_id)
    alternatives = [IssueGuess(issue_type=lab, probability=round(float(p), 3))
                    for lab, p in ranked if lab != issue_id and p >= ALTERNATIVE_MIN][:2]  # fmt: skip
    signals = detect_signals(text, context, taxonomy)
    at_fault = context.brand_at_fault()
    if at_fault:
        cause = Cause.our_error
    elif MISUNDERSTANDING.search(text) and issue.default_cause != Cause.our_error:
        cause = Cause.misunderstanding
    else:
        cause = issue.default_cause
    return Classification(
        issue_type=issue_id,
        confidence=round(confidence, 3),
        unclear=confidence < model.unclear_below,
        alternatives=alternatives,
        is_complaint=issue.is_complaint,
        severity=_severity(issue.default_severity, signals, taxonomy, complaint, issue.is_complaint),
        sentiment=_sentiment(text, issue.is_complaint),
        language=language,
        cause=cause,
        at_fault=at_fault,
        signals=signals,
    )
