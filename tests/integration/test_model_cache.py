from __future__ import annotations

from pathlib import Path

import pytest

from service.drafting.classify import IssueModel
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
