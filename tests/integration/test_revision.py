"""Revision: a variant that fails the rubric is revised (the composer picks other blocks; a model gets the
rubric's findings) up to the limit, and the variant keeps each rejected text and why it was rejected."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from service.config import Settings
from service.drafting.context import DraftContext
from service.drafting.pipeline import DraftingPipeline
from service.models import Complaint, Language
from service.ports import Embedder
from service.services import Services, build_services
from tests.fakes import FrozenClock
from tests.llm_server import Step

pytestmark = pytest.mark.integration

COMPLAINT = Complaint(text="My groceries are two hours late and the tracking hasn't moved", channel="chat", public=False)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Services:
    tmp = tmp_path_factory.mktemp("revision")
    s = Settings(_env_file=None, database={"url": f"sqlite:///{tmp}/r.db"}, chroma={"path": tmp / "chroma"})
    return build_services(s, embedder=embedder)


def _pipeline(services: Services, *, banned: list[str], max_revisions: int) -> DraftingPipeline:
    """The service's pipeline on a copy of the pack whose no_sarcasm lexicon also bans these sentences."""
    rubric = services.pack.rubric.model_copy(deep=True)
    criterion = next(c for c in rubric.criteria if c.id == "no_sarcasm")
    criterion.lexicon[Language.en] = [*criterion.lexicon.get(Language.en, []), *(re.escape(b) for b in banned)]
    pack = replace(services.pack, rubric=rubric)
    p = services.pipeline
    return DraftingPipeline(pack=pack, embedder=p.embedder, index=None, store=p.store, issue_model=p.issue_model,
                            clock=FrozenClock(), tone_signals=p.tone_signals, max_revisions=max_revisions)  # fmt: skip


def test_the_composer_revises_a_failing_variant_and_keeps_the_rejected_text(services: Services) -> None:
    first = _pipeline(services, banned=[], max_revisions=0).make_draft(COMPLAINT, DraftContext())
    v1 = first.variants[0]
    assert v1.rubric.passed and v1.revisions == []
    sentence = re.split(r"(?<=[.!?])\s+", v1.text)[0]  # the opening sentence of the first variant

    # The same sentence is now banned: without revisions the variant fails, and stays as it was.
    stuck = _pipeline(services, banned=[sentence], max_revisions=0).make_draft(COMPLAINT, DraftContext())
    assert not stuck.variants[0].rubric.passed and stuck.variants[0].revisions == []

    draft = _pipeline(services, banned=[sentence], max_revisions=2).make_draft(COMPLAINT, DraftContext())
    v = draft.variants[0]
    assert v.rubric.passed and sentence not in v.text
    assert v.structure == v1.structure and v.generator == "composer"
    (rev,) = v.revisions
    assert rev.text == v1.text and rev.failed == ["no_sarcasm"] and rev.attempt == 0
    assert len(rev.evidence) == 1 and rev.evidence[0].startswith(f"no_sarcasm: {sentence}")
    assert "without the quoted sentences" in rev.action
    assert all(x.rubric.passed for x in draft.variants)
    # The draft round-trips through storage with its revisions.
    assert draft.model_validate(draft.model_dump(mode="json")).variants[0].revisions == v.revisions


def _llm_services(tmp_path: Path, embedder: Embedder, url: str, max_revisions: int = 2) -> Services:
    s = Settings(
        _env_file=None, database={"url": f"sqlite:///{tmp_path}/t.db"}, chroma={"path": tmp_path / "chroma"},
        llm={"base_url": url, "model": "scripted-1", "timeout_s": 5, "max_retries": 0, "api_key": "test"},
        tone={"max_revisions": max_revisions},
    )  # fmt: skip
    return build_services(s, embedder=embedder)


PROMISE = "Sorry your groceries are late. We guarantee they will never be late again; DM us the order number."
FIXED = "Sorry your groceries are late; that's on us. Please send us the order number and we'll check with the rider now."
OTHER = "I'm sorry the tracking hasn't moved. Send us your order number and we'll find out where your groceries are."


def test_the_model_revises_its_draft_with_the_rubrics_findings(tmp_path: Path, embedder: Embedder, llm) -> None:  # type: ignore[no-untyped-def]
    script, server = llm
    script.steps += [Step(content=json.dumps({"variants": [{"text": PROMISE}, {"text": OTHER}]})),
                     Step(content=json.dumps({"text": FIXED}))]  # fmt: skip
    sv = _llm_services(tmp_path, embedder, server.url)
    draft = sv.pipeline.make_draft(COMPLAINT, DraftContext(), variants=2)
    v = draft.variants[0]
    assert v.text == FIXED and v.generator == "llm:scripted-1" and v.rubric.passed
    (rev,) = v.revisions
    assert rev.text == PROMISE and "no_overpromise" in rev.failed and "model revised" in rev.action
    assert draft.variants[1].text == OTHER and draft.variants[1].revisions == []
    assert draft.prompt_refs["revise_reply"].startswith("v1:")

    sent = "\n".join(m["content"] for m in script.requests[1]["messages"])
    assert "<<<DRAFT" in sent and PROMISE in sent and "- no_overpromise:" in sent and "guarantee" in sent.lower()


def test_a_model_that_cannot_fix_its_draft_is_replaced_by_the_composer(tmp_path: Path, embedder: Embedder, llm) -> None:  # type: ignore[no-untyped-def]
    script, server = llm
    still_bad = json.dumps({"text": "We guarantee a full refund today."})
    script.steps += [Step(content=json.dumps({"variants": [{"text": PROMISE}, {"text": OTHER}]})),
                     Step(content=still_bad), Step(content=still_bad), Step(content=still_bad)]  # fmt: skip
    sv = _llm_services(tmp_path, embedder, server.url, max_revisions=2)
    draft = sv.pipeline.make_draft(COMPLAINT, DraftContext(), variants=2)
    assert len(script.requests) == 3  # the draft, then two revisions: the limit
    assert draft.variants[0].text == OTHER
    assert draft.variants[1].generator == "composer" and draft.variants[1].rubric.passed
    reason = draft.variants[1].fallback_reason or ""
    assert reason.startswith("model draft failed the rubric (") and "no_overpromise" in reason


def test_revisions_are_off_at_zero(tmp_path: Path, embedder: Embedder, llm) -> None:  # type: ignore[no-untyped-def]
    script, server = llm
    script.steps += [Step(content=json.dumps({"variants": [{"text": PROMISE}, {"text": OTHER}]}))]
    sv = _llm_services(tmp_path, embedder, server.url, max_revisions=0)
    draft = sv.pipeline.make_draft(COMPLAINT, DraftContext(), variants=2)
    assert len(script.requests) == 1 and draft.variants[1].generator == "composer"
