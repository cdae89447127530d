"""The drafting flow: validate -> redact -> embed once -> classify -> retrieve -> compose -> check -> store.

A failure of the model falls back to the playbook composer; a failure of the vector store drafts from
the playbook without sources. Either way the draft says what happened, and the complaint is never lost.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence, Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import timedelta

from service import language as lang_detect
from service import privacy
from service.drafting.classify import IssueModel, classify, embed_for_classifier
from service.drafting.compose import Composed, ComposeRequest, PlaybookComposer
from service.drafting.context import DraftContext
from service.drafting.llm import LLMComposer
from service.drafting.retrieve import PAST_REPLIES, retrieve
from service.errors import IndexUnavailable, ModelNotConfigured, UpstreamError
from service.knowledge.pack import BLOCK_KEYS, Pack
from service.models import (
    Channel, Classification, Complaint, CriterionResult, Draft, DraftKind, IncidentStatus, Language, Revision, RubricVerdict,
    Source, Variant,
)
from service.ports import Clock, DraftStore, Embedder, IndexRecord, PassageIndex
from service.review.audit import AuditEntry, text_hash
from service.tone.checks import CheckContext, check, content_words, learned_thresholds, sentence_thresholds
from service.tone.judge import ToneJudge
from service.tone.learned import ToneSignals, vectors_by_layer

log = logging.getLogger(__name__)
PROBLEM_MIN_FIT = 0.45  # below this, the playbook's general problem phrase is used
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")

MIN_SENTENCE_WORDS = 4  # shorter pieces ("Dear Mr.", "Best regards,") are not scored alone: out of context they read as curt


def scored_sentences(text: str, published: AbstractSet[str] = frozenset()) -> list[str]:
    """The sentences of a reply that are scored alone against a sentence threshold (none for one sentence).

    A sentence that is, whole, one of the ``published`` sentences (``published_sentences`` of the brand's
    policy facts and the incident's public note) is left out: the brand wrote it, and out of context a
    plain statement such as "Many customers cannot complete payment right now." can score as hostile.
    Whole sentences only (spacing and case aside): a fragment of a fact, or a sentence that merely
    contains one, is scored."""
    pieces = [x.strip() for x in SENTENCE_RE.split(text) if x.strip()]
    if len(pieces) < 2:
        return []
    return [x for x in pieces if len(x.split()) >= MIN_SENTENCE_WORDS and _plain(x) not in published]


def published_sentences(texts: Sequence[str]) -> frozenset[str]:
    """The sentences of the brand's own texts, as ``scored_sentences`` compares them."""
    return frozenset(_plain(x) for t in texts for x in SENTENCE_RE.split(t) if x.strip())


def _plain(sentence: str) -> str:
    return " ".join(sentence.split()).casefold()


@dataclass
class Understood:
    """A complaint after redaction, embedding and classification."""

    complaint: Complaint
    context: DraftContext
    redacted: str
    embedding: list[float]
    classification: Classification


class DraftingPipeline:
    def __init__(
        self,
        *,
        pack: Pack,
        embedder: Embedder,
        index: PassageIndex | None,
        store: DraftStore,
        issue_model: IssueModel,
        clock: Clock,
        llm: LLMComposer | None = None,
        top_k: int = 4,
        min_score: float = 0.25,
        prompt_refs: dict[str, str] | None = None,
        tone_signals: Sequence[ToneSignals] = (),
        judge: ToneJudge | None = None,
        max_revisions: int = 2,
    ) -> None:
        self.pack, self.embedder, self.index, self.store = pack, embedder, index, store
        self.issue_model, self.clock, self.llm = issue_model, clock, llm
        self.composer = PlaybookComposer()
        self.top_k, self.min_score = top_k, min_score
        self.prompt_refs = prompt_refs or {}
        self.tone_signals = list(tone_signals)
        self.judge = judge
        self.max_revisions = max_revisions
        self._signal_cuts = learned_thresholds(pack.rubric)
        self._sentence_cuts = sentence_thresholds(pack.rubric)
        self._contacts = list(pack.brand.contacts.values())
        self.public_channels = frozenset(ch for ch, rule in pack.brand.channels.items() if rule.public)
        self._all_facts = pack.all_facts()
        self._brand_words = content_words(f"{pack.brand.name} {pack.brand.handle} {pack.brand.name.replace(' ', '')}")
        self._vectors: dict[str, list[float]] = {}
        blocks = [
            item for pb in pack.playbooks.values() for b in pb.reply.values() for key in BLOCK_KEYS
            for item in getattr(b, key)
        ]  # fmt: skip
        self._fact_issues: dict[str, set[str]] = {}
        for p in pack.policies:
            for lang in p.languages:
                for f in p.facts.get(lang, []):
                    self._fact_issues.setdefault(f, set()).update(p.issue_types)
        self._remember([*self._all_facts, *blocks])

    def _remember(self, texts: list[str]) -> None:
        """Embed (once) the short texts the composer chooses between: policy facts, problem phrases."""
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            self._vectors.update(zip(new, self.embedder.embed(new), strict=True))

    def _similarity(self, text: str, embedding: list[float]) -> float:
        if text not in self._vectors:
            self._remember([text])
        return sum(a * b for a, b in zip(self._vectors[text], embedding, strict=True))

    def rank_facts(self, sources: list[Source], u: Understood) -> list[str]:
        """Facts of the retrieved policies that bear on this complaint, most relevant first.

        A fact is kept when it is close in meaning and shares a content word with the complaint (a fact
        about something else reads as boilerplate); shared words weigh in the order, since the embedding
        model is weaker on Indonesian than on English."""
        issue = u.classification.issue_type
        facts = [
            f for f in dict.fromkeys(f for s in sources if s.kind == "policy" for f in s.facts)
            if issue in self._fact_issues.get(f, {issue})  # only policies that govern this kind of complaint
        ]
        self._remember(facts)
        words = content_words(u.redacted) - self._brand_words
        scored = []
        # Indonesian similarities run high with this English embedding model, and affixes make chance
        # overlaps ("sampaikan" ~ "sampai"): there a fact must share two words.
        need = 2 if u.classification.language == Language.id else 1
        for f in facts:
            shared = len(content_words(f) & words)
            if shared >= need and self._similarity(f, u.embedding) >= 0.3:
                scored.append((self._similarity(f, u.embedding) + 0.1 * shared, f))
        return [f for _, f in sorted(scored, reverse=True)]

    def rank_blocks(self, u: Understood) -> dict[str, list[str]]:
        """Each reply block's items, the one that fits this complaint best first (by meaning, then by
        shared words), so the composer asks for a link about a rumour of a link, not about a recall."""
        c = u.classification
        blocks = self.pack.playbooks[c.issue_type].reply[c.language]
        words = content_words(u.redacted)

        def fit(item: str) -> float:
            return self._similarity(item, u.embedding) + 0.05 * len(content_words(item) & words)

        ranked = {key: sorted(getattr(blocks, key), key=fit, reverse=True) for key in BLOCK_KEYS}
        # Name a specific problem only when one clearly fits; otherwise the general phrase, which is
        # never wrong ("something in your order wasn't right", not "your eggs arrived crushed").
        if blocks.problem_general and fit(ranked["problem"][0]) < PROBLEM_MIN_FIT:
            ranked["problem"] = [*blocks.problem_general, *ranked["problem"]]
        return ranked

    # ------------------------------------------------------------ steps

    def understand(self, complaint: Complaint, context: DraftContext) -> Understood:
        redacted, _ = privacy.redact(complaint.text, allow=self._contacts)
        language = complaint.language or lang_detect.detect(redacted)
        sentence, features = embed_for_classifier(self.embedder, [redacted])  # one run of the model
        embedding = sentence[0]
        classification = classify(
            complaint=complaint, text=redacted, features=features[0], language=language,
            context=context, taxonomy=self.pack.taxonomy, model=self.issue_model,
        )  # fmt: skip
        return Understood(complaint, context, redacted, embedding, classification)

    def check_context(
        self, *, channel: Channel, public: bool, language: Language | None, u: Understood | None, context: DraftContext
    ) -> CheckContext:
        # What a reply may promise: any fact of the brand's policies, and the incident's own public note.
        # Not only the facts of the policies governing the complaint's issue type: a misread issue type
        # (or a reply quoting a related policy) then flagged the brand's own review times and vouchers.
        # The price: a fact's amount or timeline ("within 48 hours") passes in any complaint, since the
        # check is whether the words appear in some fact, not whether that fact governs this case.
        facts = list(self._all_facts)
        if context.incident and context.incident.public_note:
            facts.append(context.incident.public_note)
        topic: list[str] = []
        if u is not None:
            issue = self.pack.taxonomy.issue(u.classification.issue_type)
            lang = u.classification.language
            topic = [*self.pack.playbooks[issue.id].reply[lang].problem, issue.label.get(lang, "")]
        return CheckContext(
            channel=channel, public=public, language=language,
            complaint=u.redacted if u else None,
            is_complaint=u.classification.is_complaint if u else True,
            issue_type=u.classification.issue_type if u else None,
            at_fault=u.classification.at_fault if u else context.brand_at_fault(),
            incident=context.incident is not None and context.incident.status != IncidentStatus.resolved,
            topic_terms=topic, allowed_facts=facts, brand=self.pack.brand,
        )  # fmt: skip

    def _sources(self, u: Understood) -> tuple[list[Source], str | None]:
        if self.index is None:
            return [], "the vector store is not configured"
        try:
            return (
                retrieve(
                    index=self.index, embedding=u.embedding, issue_type=u.classification.issue_type,
                    language=u.classification.language, k=self.top_k, min_score=self.min_score,
                ),  # fmt: skip
                None,
            )
        except IndexUnavailable as exc:
            log.warning("retrieval failed, drafting from the playbook alone: %s", exc.detail)
            return [], f"retrieval failed: {exc.detail}"

    def checked(self, texts: Sequence[str], ctx: CheckContext) -> list[RubricVerdict]:
        """The rubric's verdict on each text, with the learned tone signals for texts in their language."""
        learned: list[dict[str, float]] = [{} for _ in texts]
        quotes: list[dict[str, str]] = [{} for _ in texts]
        languages = [lang_detect.detect(t).value for t in texts]
        # each set of models scores the replies in its own language; each reply is embedded once, in one batch
        sets = [[s for s in self.tone_signals if s.language == lang] for lang in languages]
        need = [i for i, found in enumerate(sets) if any(s.needs_embedding for s in found)]
        layers = {layer for found in sets for s in found for layer in s.layers}
        vectors = dict(zip(need, vectors_by_layer(self.embedder, [texts[i] for i in need], layers), strict=True))
        for i, found in enumerate(sets):
            for signals in found:
                scores = signals.score(texts[i], vectors.get(i))
                learned[i] |= scores
                quotes[i] |= self._learned_quotes(signals, texts[i], scores)
        one = self._sentence_scores(texts, sets, approved=ctx.allowed_facts)
        return [
            check(t, rubric=self.pack.rubric, ctx=replace(ctx, learned=lr, learned_quotes=q, learned_sentences=s))
            for t, lr, q, s in zip(texts, learned, quotes, one, strict=True)
        ]

    def _sentence_scores(self, texts: Sequence[str], sets: list[list[ToneSignals]], *,
                         approved: Sequence[str] = ()) -> list[dict[str, tuple[float, str]]]:  # fmt: skip
        """For the signals with a sentence threshold: each text's highest-scoring sentence read alone, with
        its score (texts of two sentences or more; all their sentences embedded in one batch). Sentences
        of ``approved`` texts (policy facts, the incident's note) are not read alone (``scored_sentences``)."""
        out: list[dict[str, tuple[float, str]]] = [{} for _ in texts]
        wanted = [(i, s) for i, found in enumerate(sets) for s in found if self._sentence_cuts.keys() & {m.name for m in s.signals}]
        published = published_sentences(approved) if wanted else frozenset()
        split = {i: scored_sentences(texts[i], published) for i, _ in wanted}
        pieces = sorted({x for xs in split.values() for x in xs})
        if not pieces:
            return out
        layers = {layer for _, s in wanted for layer in s.layers}
        vectors = dict(zip(pieces, vectors_by_layer(self.embedder, pieces, layers), strict=True))
        for i, signals in wanted:
            for sentence in split[i]:
                for name, p in signals.score(sentence, vectors.get(sentence)).items():
                    if name in self._sentence_cuts and p > out[i].get(name, (-1.0, ""))[0]:
                        out[i][name] = (p, sentence)
        return out

    def _learned_quotes(self, signals: ToneSignals, text: str, scores: dict[str, float]) -> dict[str, str]:
        """For each signal that fails the text, the sentence most responsible: the one whose removal
        lowers the score most (a short sentence read alone, "Please DM us.", can look curt out of
        context). It is the evidence a reviewer reads, and the sentence a revision leaves out."""
        flagged = [name for name, p in scores.items() if p >= self._signal_cuts.get(name, 1.0)]
        sentences = [s for s in SENTENCE_RE.split(text) if s.strip()]
        if not flagged or len(sentences) < 2:
            return {name: text.strip() for name in flagged}
        without = [" ".join(s for j, s in enumerate(sentences) if j != i) for i in range(len(sentences))]
        per = [signals.score(t, v) for t, v in zip(without, vectors_by_layer(self.embedder, without, signals.layers), strict=True)]
        return {name: sentences[min(range(len(per)), key=lambda i: per[i][name])].strip() for name in flagged}

    def _as_variants(
        self, items: list[Composed], generator: str, ctx: CheckContext, reason: str | None = None
    ) -> list[Variant]:
        verdicts = self.checked([c.text for c in items], ctx)
        return [
            Variant(id=f"v{i + 1}", text=c.text, generator=generator, fallback_reason=reason, structure=c.structure,
                    rubric=verdict)
            for i, (c, verdict) in enumerate(zip(items, verdicts, strict=True))
        ]  # fmt: skip

    def _alternative(
        self, v: Variant, index: int, attempt: int, req: ComposeRequest, failed: list[CriterionResult], seen: set[str]
    ) -> tuple[str, str] | None:
        """Another text for a variant that failed the rubric, and how it was made; None when there is none."""
        if v.generator == self.composer.name:
            # The composer writes the same structure again without the sentences the rubric quoted, with
            # other wording; a few turns of the wording before giving up.
            avoid = req.avoid | {c.evidence for c in failed if c.evidence}
            for turn in range(3):
                salt = req.salt + 7 * attempt + turn
                items = self.composer.compose(replace(req, avoid=frozenset(avoid), salt=salt))
                text = items[min(index, len(items) - 1)].text if items else None
                if text and text not in seen:
                    return text, f"composed again without the quoted sentences (wording {salt})"
            return None
        if self.llm is None or not v.generator.startswith("llm:"):
            return None
        try:
            text = self.llm.revise(req, v.text, failed)
        except UpstreamError as exc:
            log.warning("model revision failed (%s); the variant stays as it was", exc.code)
            return None
        return (text, f"the model revised it with the rubric's findings ({self.llm.name})") if text not in seen else None

    def _revised(self, variants: list[Variant], req: ComposeRequest, ctx: CheckContext) -> list[Variant]:
        """Revise each variant that fails the rubric, up to ``max_revisions`` times; each rejected text is
        kept on the variant with the criteria it failed and their evidence."""
        out = []
        for i, v in enumerate(variants):
            history: list[Revision] = []
            seen = {v.text}
            while not v.rubric.passed and len(history) < self.max_revisions:
                failed = [c for c in v.rubric.criteria if c.applicable and not c.passed]
                found = self._alternative(v, i, len(history) + 1, req, failed, seen)
                if found is None:
                    break
                text, action = found
                seen.add(text)
                history.append(Revision(attempt=len(history), text=v.text, generator=v.generator,
                                        failed=[c.id for c in failed], action=action,
                                        evidence=[f"{c.id}: {c.evidence}" for c in failed if c.evidence]))  # fmt: skip
                v = v.model_copy(update={"text": text, "rubric": self.checked([text], ctx)[0]})
            out.append(v.model_copy(update={"revisions": history}) if history else v)
        return out

    def _compose(self, req: ComposeRequest, ctx: CheckContext) -> list[Variant]:
        def from_composer(reason: str | None = None) -> list[Variant]:
            return self._revised(self._as_variants(self.composer.compose(req), self.composer.name, ctx, reason), req, ctx)

        if self.llm is None:
            return from_composer()
        try:
            variants = self._revised(self._as_variants(self.llm.compose(req), self.llm.name, ctx), req, ctx)
        except UpstreamError as exc:
            log.warning("model failed (%s); the playbook composer answers", exc.code)
            return from_composer(f"{exc.code}: {exc.detail}")
        except Exception as exc:  # any other failure of the model path must not lose the complaint
            log.exception("model path failed unexpectedly; the playbook composer answers")
            return from_composer(f"model-error: {exc.__class__.__name__}")
        failing = [v for v in variants if not all(c.passed for c in v.rubric.criteria if c.blocking)]
        kept = [v for v in variants if v not in failing]
        if len(kept) == req.variants:
            return kept
        # A model draft that still fails a blocking check after its revisions (say, a promise the policy
        # does not allow) is never stored as a candidate, and a model that returned too few variants is
        # topped up: the composer fills the gap, and the draft says why.
        failed = sorted({c.id for v in failing for c in v.rubric.criteria if c.blocking and not c.passed})
        reason = (
            f"model draft failed the rubric ({', '.join(failed)})"
            if failed
            else f"the model returned {len(kept)} of {req.variants} variants"
        )
        fallback = from_composer(reason)
        merged = kept + fallback[: max(0, req.variants - len(kept))]
        return [v.model_copy(update={"id": f"v{i + 1}"}) for i, v in enumerate(merged)]

    # ------------------------------------------------------------ entry points

    def make_draft(
        self, complaint: Complaint, context: DraftContext, *, variants: int = 3, salt: int = 0,
        understood: Understood | None = None,
    ) -> Draft:  # fmt: skip
        """Classify, retrieve, compose and check: a complete draft, not yet stored (``understood``: the
        complaint already embedded and classified, with this context)."""
        t0 = time.perf_counter()
        u = replace(understood, context=context) if understood is not None else self.understand(complaint, context)
        c = u.classification
        sources, retrieval_error = self._sources(u)
        playbook = self.pack.playbooks[c.issue_type]
        req = ComposeRequest(
            text=u.redacted, classification=c, playbook=playbook, brand=self.pack.brand,
            channel=complaint.channel, public=complaint.public, context=context, sources=sources,
            author_name=complaint.author.name if complaint.author else None, variants=variants,
            facts=self.rank_facts(sources, u), ranked=self.rank_blocks(u), salt=salt,
        )  # fmt: skip
        ctx = self.check_context(
            channel=complaint.channel, public=complaint.public, language=c.language, u=u, context=context
        )
        made = self._compose(req, ctx)
        now = self.clock.now()
        refs = dict(self.prompt_refs)
        refs["playbook"] = f"{playbook.issue_type}@v{playbook.version}"
        refs["rubric"] = f"{self.pack.rubric.name}@v{self.pack.rubric.version}"
        draft = Draft(
            id=str(uuid.uuid4()), complaint=complaint, redacted_text=u.redacted,
            context=context.model_dump(mode="json", exclude_none=True), classification=c,
            sources=sources, variants=made,
            deadline=now + timedelta(minutes=self.pack.taxonomy.minutes(c.severity)),
            prompt_refs=refs, playbook=refs["playbook"], retrieval_error=retrieval_error, created_at=now,
        )  # fmt: skip
        log.info(
            "draft id=%s issue=%s severity=%s variants=%d passed=%d ms=%d",
            draft.id, c.issue_type, c.severity.value, len(made),
            sum(v.rubric.passed for v in made), (time.perf_counter() - t0) * 1000,
        )  # fmt: skip
        return draft

    def creation_events(self, draft: Draft, *, actor: str, role: str, note: str | None = None) -> list[AuditEntry]:
        """The audit events of a new draft: its creation and the rubric check of each variant."""
        checks = "; ".join(f"{v.id} passed={v.rubric.passed} score={v.rubric.score}" for v in draft.variants)
        common = {"draft_id": draft.id, "actor": actor, "role": role, "prompt_refs": draft.prompt_refs,
                  "at": draft.created_at, "to_state": draft.status.value}  # fmt: skip
        return [
            AuditEntry(action="created", note=note, text_hash=text_hash(draft.complaint.text), **common),
            AuditEntry(action="checked", note=checks, from_state=draft.status.value, **common),
        ]

    def draft(
        self, complaint: Complaint, context: DraftContext, *, variants: int = 3, actor: str = "system",
        role: str = "system",
    ) -> Draft:  # fmt: skip
        """Make a draft and store it as pending_review, with its audit events."""
        draft = self.make_draft(complaint, context, variants=variants)
        self.store.add(draft, self.creation_events(draft, actor=actor, role=role))
        return draft

    def context_of(self, draft: Draft) -> DraftContext:
        return DraftContext.model_validate(draft.context)

    def recheck(self, draft: Draft, text: str) -> RubricVerdict:
        """Score a reviewer's edit of a draft in the draft's own situation."""
        u = Understood(draft.complaint, self.context_of(draft), draft.redacted_text, [], draft.classification)
        ctx = self.check_context(
            channel=draft.complaint.channel, public=draft.complaint.public,
            language=draft.classification.language, u=u, context=u.context,
        )  # fmt: skip
        return self.checked([text], ctx)[0]

    def learn(self, draft: Draft) -> bool:
        """Add an approved reply to the past replies, so the next similar complaint retrieves it.

        Best effort: the approval is already committed; if the vector store is down, `tenang ingest`
        adds approved replies again from the store later."""
        text = draft.review.final_text
        if self.index is None or not text or draft.kind is not DraftKind.reply:  # follow-ups and posts are not replies to learn
            return False
        c = draft.classification
        md: dict[str, object] = {
            "issue_type": c.issue_type, "language": c.language.value, "channel": draft.complaint.channel.value,
            "public": draft.complaint.public, "complaint": draft.redacted_text[:500], "source": "approved",
            "title": f"Approved reply ({c.issue_type}, {draft.complaint.channel.value})",
            "content_sha256": text_hash(text) or "",
        }  # fmt: skip
        try:
            vec = self.embedder.embed([draft.redacted_text])[0]
            self.index.upsert(PAST_REPLIES, [IndexRecord(f"approved:{draft.id}", text, vec, md)])
        except IndexUnavailable as exc:
            log.warning("could not add approved reply %s to the past replies: %s", draft.id, exc.detail)
            return False
        return True

    def classify(self, complaint: Complaint, context: DraftContext) -> Classification:
        return self.understand(complaint, context).classification

    def check_text(
        self,
        text: str,
        *,
        complaint: Complaint | None,
        channel: Channel,
        public: bool,
        context: DraftContext,
        judge: bool = False,
    ) -> RubricVerdict:
        """The rubric's verdict on any text; with ``judge``, plus the model judge's advisory scores."""
        if judge and self.judge is None:
            raise ModelNotConfigured("the model judge needs a model: set TENANG_LLM__BASE_URL (or OPENAI_BASE_URL)")
        u = self.understand(complaint, context) if complaint else None
        language = u.classification.language if u else None
        ctx = self.check_context(channel=channel, public=public, language=language, u=u, context=context)
        verdict = self.checked([text], ctx)[0]
        if judge and self.judge is not None:
            scored = self.judge.judge(text, complaint=u.redacted if u else None, channel=channel, public=public,
                                      language=language or lang_detect.detect(text))  # fmt: skip
            verdict = verdict.model_copy(update={"judge": scored})
        return verdict

