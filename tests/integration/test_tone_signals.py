"""The learned tone signals shipped in the package: they load, score, and reach the rubric only for
replies in their language, and only when switched on."""

from __future__ import annotations

from pathlib import Path

from service.config import Settings
from service.drafting.context import DraftContext
from service.models import Channel
from service.ports import Embedder
from service.services import build_services
from service.tone.learned import ToneSignals


def test_the_shipped_signals_score_hostile_text_above_calm_text(embedder: Embedder) -> None:
    signals = ToneSignals.load()
    assert signals.language == "en" and {s.name for s in signals.signals} == {"impolite", "offensive", "irony"}
    calm = "Thanks for letting us know, Rina. Please DM us your order number and we'll check it today."
    hostile = "You people are pathetic clowns, shut up and stop wasting our time with your garbage complaints."
    s_calm = signals.score(calm, embedder.embed([calm])[0])
    s_hostile = signals.score(hostile, embedder.embed([hostile])[0])
    assert all(0 <= p <= 1 for p in (*s_calm.values(), *s_hostile.values()))
    assert s_hostile["offensive"] > s_calm["offensive"] + 0.3
    assert s_hostile["impolite"] > s_calm["impolite"]


def _services(tmp_path: Path, embedder: Embedder, learned: bool):  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp_path}/t.db"}, chroma={"path": tmp_path / "c"},
                        tone={"learned": learned})  # fmt: skip
    return build_services(settings, embedder=embedder)


def test_the_rubric_uses_them_for_english_replies_when_switched_on(tmp_path: Path, embedder: Embedder) -> None:
    hostile = "You people are clowns, stop wasting our time with your garbage complaints."  # no listed word
    on = _services(tmp_path / "on", embedder, learned=True)
    assert on.pipeline.prompt_refs["tone_signals"] == "tone-signals-v1"
    verdict = on.pipeline.check_text(hostile, complaint=None, channel=Channel.chat, public=False, context=DraftContext())
    evidence = " ".join(c.evidence or "" for c in verdict.criteria if not c.passed)
    assert not verdict.passed and "model scores the whole reply" in evidence
    indonesian = "Kalian ini badut, berhenti buang waktu kami dengan keluhan sampah."
    verdict_id = on.pipeline.check_text(indonesian, complaint=None, channel=Channel.chat, public=False, context=DraftContext())
    assert "model scores" not in " ".join(c.evidence or "" for c in verdict_id.criteria)

    off = _services(tmp_path / "off", embedder, learned=False)
    assert "tone_signals" not in off.pipeline.prompt_refs
    verdict_off = off.pipeline.check_text(hostile, complaint=None, channel=Channel.chat, public=False, context=DraftContext())
    assert "model scores" not in " ".join(c.evidence or "" for c in verdict_off.criteria)
