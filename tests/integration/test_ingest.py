from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from service.adapters.chroma_index import ChromaIndex
from service.config import PROJECT_ROOT
from service.knowledge.ingest import ingest
from service.knowledge.pack import load_pack
from service.ports import Embedder

pytestmark = pytest.mark.integration


def test_ingest_is_idempotent_and_follows_the_pack(tmp_path: Path, embedder: Embedder) -> None:
    root = tmp_path / "pack"
    shutil.copytree(PROJECT_ROOT / "knowledge", root)
    index = ChromaIndex(path=tmp_path / "chroma")

    first = ingest(load_pack(root), index=index, embedder=embedder)
    assert first.collections["policy"].added > 10 and first.collections["past_replies"].added >= 80

    second = ingest(load_pack(root), index=index, embedder=embedder)
    assert not second.changed and "nothing changed" in second.summary()

    replies = root / "past_replies" / "delivery.jsonl"
    lines = replies.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[0])
    edited["reply"] += " Thank you for your patience."
    replies.write_text("\n".join([json.dumps(edited), *lines[2:]]) + "\n", encoding="utf-8")
    third = ingest(load_pack(root), index=index, embedder=embedder)
    counts = third.collections["past_replies"]
    assert (counts.updated, counts.deleted, counts.added) == (1, 1, 0)


def test_ingest_never_deletes_records_that_did_not_come_from_the_pack(tmp_path: Path, embedder: Embedder) -> None:
    from service.ports import IndexRecord

    index = ChromaIndex(path=tmp_path / "chroma")
    pack = load_pack(PROJECT_ROOT / "knowledge")
    ingest(pack, index=index, embedder=embedder)
    vec = embedder.embed(["approved later"])[0]
    index.upsert("past_replies", [IndexRecord("approved:abc", "approved later", vec, {"issue_type": "praise"})])
    report = ingest(pack, index=index, embedder=embedder)
    assert report.collections["past_replies"].deleted == 0
    assert "approved:abc" in index.hashes("past_replies")
