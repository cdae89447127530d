from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.drafting.classify import IssueModel, classifier_vectors
from service.knowledge.pack import Pack
from service.ports import Embedder

pytestmark = pytest.mark.integration


def test_the_classifier_is_cached_by_the_taxonomy(tmp_path: Path, pack: Pack, embedder: Embedder) -> None:
    first = IssueModel.cached(pack.taxonomy, embedder, tmp_path)
    files = list(tmp_path.glob("issue-model-*.joblib"))
    assert len(files) == 1
    again = IssueModel.cached(pack.taxonomy, embedder, tmp_path)
    assert again.labels == first.labels and len(list(tmp_path.glob("*.joblib"))) == 1

    edited = pack.taxonomy.model_copy(deep=True)
    edited.issue_types[0].examples.append(edited.issue_types[0].examples[0].model_copy(update={"text": "app is down again"}))
    IssueModel.cached(edited, embedder, tmp_path)
    assert len(list(tmp_path.glob("*.joblib"))) == 2  # an edited taxonomy trains a new model

    files[0].write_bytes(b"not a model")
    assert IssueModel.cached(pack.taxonomy, embedder, tmp_path).labels == first.labels  # retrains over junk


def test_the_classifier_reads_the_sentence_embedding_beside_an_earlier_layer(pack, embedder) -> None:  # type: ignore[no-untyped-def]
    texts = ["my order is three days late and nobody answers", "thank you, the rider was lovely"]
    features = classifier_vectors(embedder, texts)
    sentence = np.asarray(embedder.embed(texts))
    assert features.shape == (2, 2 * sentence.shape[1])
    assert np.allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    # the first half is the sentence embedding itself (retrieval's vector); the second is another vector
    assert np.allclose(features[:, : sentence.shape[1]] * np.sqrt(2), sentence, atol=1e-5)
    assert not np.allclose(features[:, sentence.shape[1] :] * np.sqrt(2), sentence, atol=1e-2)
    model = IssueModel.cached(pack.taxonomy, embedder, None)
    assert model.semantic.coef_.shape[1] == features.shape[1]
    label, _ = model.predict(texts[0], features[0])
    assert pack.taxonomy.issue(label).is_complaint
