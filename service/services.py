"""The composition root: build every adapter once from Settings and wire the pipeline.

Used by the app's lifespan, the CLI and the evals, so all three run the same code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from service.config import Settings
from service.drafting.classify import IssueModel
from service.drafting.llm import LLMComposer
from service.drafting.pipeline import DraftingPipeline
from service.errors import IndexUnavailable
from service.incidents.models import load_crisis
from service.incidents.service import AlertWebhook, CrisisService
from service.knowledge.pack import Pack, load_pack
from service.ports import ChatModel, Clock, DraftStore, Embedder, EncoderTuner, PassageIndex
from service.prompting.registry import PromptRegistry
from service.review.service import ReviewService
from service.tone.judge import ToneJudge
from service.tone.learned import ToneSignals

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    pack: Pack
    embedder: Embedder
    index: PassageIndex | None
    index_error: str | None
    store: DraftStore
    prompts: PromptRegistry
    chat: ChatModel | None
    pipeline: DraftingPipeline
    review: ReviewService
    clock: Clock
    crisis: CrisisService


def build_embedder(settings: Settings) -> Embedder:
    from service.adapters.embedder import OnnxEmbedder, SentenceEmbedder

    if settings.embedding.backend == "torch":
        return SentenceEmbedder(settings.embedding.model_path)
    return OnnxEmbedder(settings.embedding.model_path, settings.knowledge.model_cache)


def build_tuner(settings: Settings, *, epochs: int | None = None, cache_dir: Path | None = None) -> EncoderTuner | None:
    """The fine-tuner of the issue-type classifier's embedding model (``epochs`` and ``cache_dir`` default
    to the settings'); None when the epochs are 0."""
    epochs = settings.knowledge.tune_epochs if epochs is None else epochs
    if epochs == 0:
        return None
    from service.adapters.tuning import EncoderTuner as Tuner

    return Tuner(cache_dir or settings.knowledge.model_cache, epochs=epochs, model_path=settings.embedding.model_path)


def build_index(settings: Settings) -> PassageIndex:
    from service.adapters.chroma_index import ChromaIndex

    return ChromaIndex(path=settings.chroma.path, url=settings.chroma.url)


def build_chat(settings: Settings) -> ChatModel | None:
    base_url = settings.llm_base_url()
    if not base_url:
        return None
    from service.adapters.openai_chat import OpenAIChat

    return OpenAIChat(
        base_url=base_url, model=settings.llm.model, api_key=settings.llm_api_key(),
        timeout_s=settings.llm.timeout_s, max_retries=settings.llm.max_retries,
        temperature=settings.llm.temperature,
    )  # fmt: skip


def build_services(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    index: PassageIndex | None = None,
    store: DraftStore | None = None,
    chat: ChatModel | None = None,
    clock: Clock | None = None,
) -> Services:
    pack = load_pack(settings.knowledge.dir)
    prompts = PromptRegistry.load(settings.prompts.dir)
    embedder = embedder or build_embedder(settings)
    tuner = build_tuner(settings)
    index_error = None
    if index is None:
        try:
            index = build_index(settings)
        except IndexUnavailable as exc:
            index_error = exc.detail
            log.warning("vector store unavailable at start: %s", exc.detail)
    if store is None:
        from service.adapters.sql_store import SqlStore

        store = SqlStore(settings.database.url)
    chat = chat or build_chat(settings)
    draft_prompt = prompts.get("draft_reply")
    revise_prompt = prompts.get("revise_reply") if "revise_reply" in prompts else None
    llm = LLMComposer(chat, draft_prompt, pack.brand.name, revise_prompt) if chat else None
    refs = {"draft_reply": draft_prompt.ref_str} if llm else {}
    if llm and revise_prompt:
        refs["revise_reply"] = revise_prompt.ref_str
    clock = clock or SystemClock()
    tone_signals = [ToneSignals.load(name) for name in settings.tone.signals]
    if tone_signals:
        refs["tone_signals"] = ",".join(t.version for t in tone_signals)
    judge = ToneJudge(chat, prompts.get("tone_judge"), pack.brand.name) if chat and "tone_judge" in prompts else None
    pipeline = DraftingPipeline(
        pack=pack, embedder=embedder, index=index, store=store,
        issue_model=IssueModel.cached(pack.taxonomy, embedder, settings.knowledge.model_cache, tuner), clock=clock, llm=llm,
        top_k=settings.chroma.top_k, min_score=settings.chroma.min_score, prompt_refs=refs, tone_signals=tone_signals,
        judge=judge, max_revisions=settings.tone.max_revisions,
    )  # fmt: skip
    review = ReviewService(store=store, pipeline=pipeline, clock=clock)
    webhook = AlertWebhook(settings.crisis.alert_webhook_url) if settings.crisis.alert_webhook_url else None
    crisis = CrisisService(store=store, pipeline=pipeline, clock=clock,
                           crisis=load_crisis(settings.knowledge.dir / "crisis.yaml"), webhook=webhook)  # fmt: skip
    return Services(settings, pack, embedder, index, index_error, store, prompts, chat, pipeline, review, clock, crisis)
