"""The learned tone signals shipped in the package: they load, score, and reach the rubric only for
replies in their language, and only when switched on."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings
from service.drafting.context import DraftContext
from service.errors import ConfigInvalid
from service.models import Channel
from service.ports import Embedder
from service.services import build_services
from service.tone.learned import ToneSignals, vectors_by_layer


def test_the_shipped_signals_score_hostile_text_above_calm_text(embedder: Embedder) -> None:
    signals = ToneSignals.load()
    assert signals.language == "en" and {s.name for s in signals.signals} == {"impolite", "offensive", "irony"}
    calm = "Thanks for letting us know, Rina. Please DM us your order number and we'll check it today."
    hostile = "You people are pathetic clowns, shut up and stop wasting our time with your garbage complaints."
    s_calm, s_hostile = (signals.score(t, vectors_by_layer(embedder, [t], signals.layers)[0]) for t in (calm, hostile))
    assert all(0 <= p <= 1 for p in (*s_calm.values(), *s_hostile.values()))
    assert s_hostile["offensive"] > s_calm["offensive"] + 0.3
    assert s_hostile["impolite"] > s_calm["impolite"]


def _services(tmp_path: Path, embedder: Embedder, signals: list[str]):  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp_path}/t.db"}, chroma={"path": tmp_path / "c"},
                        tone={"signals": signals})  # fmt: skip
    return build_services(settings, embedder=embedder)


def test_the_rubric_uses_them_for_english_replies_when_switched_on(tmp_path: Path, embedder: Embedder) -> None:
    hostile = "You people are clowns, stop wasting our time with your garbage complaints."  # no listed word
    on = _services(tmp_path / "on", embedder, ["tone-signals-v6"])
    assert on.pipeline.prompt_refs["tone_signals"] == "tone-signals-v6"
    verdict = on.pipeline.check_text(hostile, complaint=None, channel=Channel.chat, public=False, context=DraftContext())
    evidence = " ".join(c.evidence or "" for c in verdict.criteria if not c.passed)
    assert not verdict.passed and "model scores" in evidence and hostile in evidence  # the sentence is quoted
    indonesian = "Kalian ini badut, berhenti buang waktu kami dengan keluhan sampah."
    verdict_id = on.pipeline.check_text(indonesian, complaint=None, channel=Channel.chat, public=False, context=DraftContext())
    assert "model scores" not in " ".join(c.evidence or "" for c in verdict_id.criteria)

    off = _services(tmp_path / "off", embedder, [])
    assert "tone_signals" not in off.pipeline.prompt_refs
    verdict_off = off.pipeline.check_text(hostile, complaint=None, channel=Channel.chat, public=False, context=DraftContext())
    assert "model scores" not in " ".join(c.evidence or "" for c in verdict_off.criteria)


def test_an_unknown_signal_set_is_a_clear_error(tmp_path: Path, embedder: Embedder) -> None:
    with pytest.raises(ConfigInvalid, match="no learned tone signals named .nope.; shipped: hostility-id-v1, reply-signals-en-v10, reply-signals-id-v9, tone-signals-v6"):
        _services(tmp_path, embedder, ["nope"])


def test_indonesian_hostility_is_caught_by_default(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp_path}/t.db"}, chroma={"path": tmp_path / "c"})
    services = build_services(settings, embedder=embedder)
    assert services.pipeline.prompt_refs["tone_signals"] == "reply-signals-en-v10,reply-signals-id-v9,tone-signals-v6"

    def no_hostility(text: str):  # type: ignore[no-untyped-def]
        verdict = services.pipeline.check_text(text, complaint=None, channel=Channel.chat, public=False,
                                               context=DraftContext())  # fmt: skip
        return next(c for c in verdict.criteria if c.id == "no_hostility")

    scolding = no_hostility("Kakak nggak baca ya? Makanya lain kali teliti dulu sebelum protes.")  # no listed word
    assert not scolding.passed and "the reply_hostile_id model scores" in (scolding.evidence or "")
    assert (scolding.evidence or "").startswith("Kakak nggak baca ya?")  # the sentence most responsible
    assert no_hostility("Mohon maaf ya Kak, pesanannya terlambat. Boleh DM nomor pesanannya? Kami cek sekarang.").passed
    english = no_hostility("You people never read anything, do you?")  # English is not its language
    assert "_id model" not in (english.evidence or "")


def test_signals_on_n_grams_alone_do_not_embed_the_reply() -> None:
    indonesian = ToneSignals.load("hostility-id-v1")
    english = ToneSignals.load("tone-signals-v6")
    assert not indonesian.needs_embedding and english.needs_embedding
    text = "Kakak nggak baca ya? Makanya lain kali teliti dulu sebelum protes."
    assert indonesian.score(text, None)["hostile_id"] == indonesian.score(text, [0.1] * 384)["hostile_id"]


def test_the_default_reply_signals_catch_subtle_english_faults_and_quote_the_sentence(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp_path}/t.db"}, chroma={"path": tmp_path / "c"})
    services = build_services(settings, embedder=embedder)

    def failing(text: str, public: bool = False) -> dict[str, str]:
        verdict = services.pipeline.check_text(text, complaint=None, channel=Channel.twitter if public else Channel.chat,
                                               public=public, context=DraftContext())  # fmt: skip
        return {c.id: c.evidence or "" for c in verdict.criteria if not c.passed and c.blocking}

    # No listed phrase in any of these: the learned signals catch them, and quote the sentence that did it.
    blame = failing("Hi Rina, I'm sorry your order is late. Unfortunately our courier partner had a very busy day, "
                    "so delays like this happen sometimes. Please DM us your order number.")  # fmt: skip
    assert blame["no_blame"].startswith("Unfortunately our courier partner had a very busy day")
    assert "reply_blaming_en model scores" in blame["no_blame"]
    argue = failing("Thanks for your post. Just to set the record straight for everyone reading, the app was working "
                    "fine yesterday and your order was delivered on time.", public=True)  # fmt: skip
    assert "reply_arguing_en" in argue["no_public_argument"]
    # A polite first sentence dilutes a contradicting second one in the whole reply's score (-en-v4 scored it
    # 0.57, under its 0.60; each sentence alone against its sentence threshold caught it, see
    # test_one_sentence_read_alone_fails_from_its_own_higher_threshold). Either way the evidence quotes the
    # sentence that failed, not the polite one.
    diluted = failing("Thanks for your post. Just to clarify for everyone reading, the app was working fine yesterday "
                      "and your order was delivered on time.", public=True)  # fmt: skip
    assert diluted["no_public_argument"].startswith("Just to clarify for everyone reading")
    assert "no_sarcasm" in failing("Wow, thanks so much for your patience, as always. We'll get to it when we get to it.")
    good = "Hi Rina, I'm sorry your order is late; that's on us. Please DM us your order number and we'll check with the rider now."
    assert failing(good) == {}

    # The brand's own incident note, quoted in a reply, is not read alone (scored_sentences; with
    # -en-v6 its first sentence alone scored 0.81 as hostile, over the sentence threshold of 0.74, and
    # failed a drafted reply to evals' hold-001 that no revision could fix).
    note = "Many customers cannot complete payment right now. We are investigating and will update this post."
    reply = f"Hi Grace, I'm sorry checkout keeps failing when you try to pay; that's on us. {note} We'll get back to you."
    incident = {"id": "inc-1", "title": "Payments failing at checkout", "status": "investigating", "public_note": note}
    verdict = services.pipeline.check_text(reply, complaint=None, channel=Channel.facebook, public=True,
                                           context=DraftContext.model_validate({"incident": incident}))  # fmt: skip
    assert verdict.passed, [(c.id, c.evidence) for c in verdict.criteria if not c.passed]
