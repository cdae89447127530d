"""Score a reply against the rubric (knowledge/rubric.yaml).

Every criterion is a deterministic check over lexicons and rules from the rubric file; each returns
passed, score, the quoted evidence and a suggestion. ``check`` runs them all and gives the verdict: a
reply passes when it passes every applicable blocking criterion and its weighted score reaches the
rubric's threshold. A model judge may add scores later; it never replaces these checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from service import language as lang_detect
from service import privacy
from service.knowledge.pack import Brand, Criterion, Rubric
from service.models import LETTER_CHANNELS, Channel, CriterionResult, Language, RubricVerdict

WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
SHOUT_RE = re.compile(r"\b[A-Z]{4,}\b")
STOPWORDS = frozenset(
    """this that with have from your about been were will would there their they them what when which
    where just very really still again dear thanks thank please sorry hello order orders kedai nusa
    yang dengan untuk dari sudah udah belum tidak bisa akan kami saya kakak bapak terima kasih tolong
    mohon maaf pesanan halo juga karena tapi atau lagi masih sama ada this into than then only also""".split()
)


@dataclass
class CheckContext:
    """What the rubric needs to know about the situation of a reply (all optional)."""

    channel: Channel = Channel.chat
    public: bool = False
    language: Language | None = None  # the customer's language
    complaint: str | None = None
    is_complaint: bool = True
    issue_type: str | None = None
    at_fault: bool = False
    incident: bool = False  # the complaint is about a known, unresolved incident that many customers share
    topic_terms: Sequence[str] = ()  # words that name this issue type's problem
    allowed_facts: Sequence[str] = ()  # policy facts: the only source of amounts and timelines
    brand: Brand | None = None
    extra_allowed_pii: Sequence[str] = field(default_factory=tuple)
    learned: Mapping[str, float] = field(default_factory=dict)  # learned signal -> probability, for this reply
    learned_quotes: Mapping[str, str] = field(default_factory=dict)  # failing signal -> the sentence most responsible
    # signal -> (its highest probability on one sentence of the reply read alone, that sentence), for the
    # signals with a sentence_threshold in the rubric
    learned_sentences: Mapping[str, tuple[float, str]] = field(default_factory=dict)


@lru_cache(maxsize=2048)
def _rx(pattern: str, flags: int = re.IGNORECASE | re.MULTILINE) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def _search(patterns: Sequence[str], text: str) -> re.Match[str] | None:
    for p in patterns:
        m = _rx(p).search(text)
        if m:
            return m
    return None


def _quote(text: str, m: re.Match[str] | tuple[int, int]) -> str:
    """The sentence around a match, trimmed to a readable span."""
    start, end = (m.start(), m.end()) if isinstance(m, re.Match) else m
    left = max(text.rfind(".", 0, start), text.rfind("\n", 0, start), text.rfind("!", 0, start))
    right_candidates = [i for i in (text.find(".", end), text.find("\n", end)) if i != -1]
    right = min(right_candidates) if right_candidates else len(text)
    s, e = left + 1, right + 1
    if e - s > 160:
        s, e = max(0, start - 60), min(len(text), end + 60)
    return text[s:e].strip()


def _lex(c: Criterion, lang: Language) -> list[str]:
    return c.lexicon.get(lang, []) or c.lexicon.get(Language.en, [])


def _both(c: Criterion) -> list[str]:
    return [p for pats in c.lexicon.values() for p in pats]


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower()).strip()


def content_words(text: str) -> set[str]:
    out = set()
    for w in WORD_RE.findall(text.lower()):
        if len(w) < 4 or w in STOPWORDS:
            continue
        for suffix in ("nya", "kan", "ing", "ed", "es", "s"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 4:
                w = w[: -len(suffix)]
                break
        out.add(w)
    return out


Result = tuple[bool, float, str | None]
CheckFn = Callable[[Criterion, str, CheckContext, Language], Result | None]


def _calm(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result:
    m = _search(_both(c), text)
    if m:
        return False, 0.0, _quote(text, m)
    limit = int(c.params.get("max_exclamations", 2))
    if text.count("!") > limit:
        i = text.find("!")
        return False, 0.3, _quote(text, (i, i + 1))
    allow = {a.upper() for a in c.params.get("caps_allow", [])}
    shouted = [m for m in SHOUT_RE.finditer(text) if m.group(0) not in allow]
    if len(shouted) > int(c.params.get("max_caps_words", 1)):
        return False, 0.2, _quote(text, shouted[0])
    return True, 1.0, None


def _lexicon_fail(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result:
    m = _search(_both(c), text)
    if m:
        return False, 0.0, _quote(text, m)
    return _learned(c, ctx)


def _learned(c: Criterion, ctx: CheckContext) -> Result:
    """A learned signal (params ``learned: {signal, threshold}``, or a list of them, thresholds set from
    data in the rubric file) fails the criterion when the reply scores at or above its threshold; the
    score is 1 - probability. Signals score only replies in their own language."""
    for spec in _learned_specs(c):
        p = ctx.learned.get(spec["signal"])
        if p is not None and p >= float(spec["threshold"]):
            quote = ctx.learned_quotes.get(spec["signal"])
            where = f"{quote} (" if quote else "the whole reply ("
            return False, round(1 - p, 3), f"{where}the {spec['signal']} model scores {p:.2f}; fails from {float(spec['threshold']):.2f})"
        # One bad sentence in an otherwise polite reply: the whole reply's score dilutes it, so each
        # sentence is also scored alone, against a higher threshold of its own (sentence_threshold).
        one = ctx.learned_sentences.get(spec["signal"])
        if one is not None and "sentence_threshold" in spec and one[0] >= float(spec["sentence_threshold"]):
            cut = float(spec["sentence_threshold"])
            return False, round(1 - one[0], 3), f"{one[1]} (the {spec['signal']} model scores {one[0]:.2f} on this sentence alone; fails from {cut:.2f})"
    return True, 1.0, None


def _learned_specs(c: Criterion) -> list[dict[str, Any]]:
    specs = c.params.get("learned") or []
    return [specs] if isinstance(specs, dict) else list(specs)


def _lowest(rubric: Rubric, key: str) -> dict[str, float]:
    """Each learned signal whose specs set ``key``, with the lowest value over the rubric's criteria."""
    out: dict[str, float] = {}
    for c in rubric.criteria:
        for spec in _learned_specs(c):
            if key in spec:
                out[spec["signal"]] = min(out.get(spec["signal"], 1.0), float(spec[key]))
    return out


def sentence_thresholds(rubric: Rubric) -> dict[str, float]:
    """The learned signals that also score each sentence alone, with their lowest sentence threshold."""
    return _lowest(rubric, "sentence_threshold")


def learned_thresholds(rubric: Rubric) -> dict[str, float]:
    """Each learned signal's lowest threshold in the rubric: from there it fails some criterion."""
    return _lowest(rubric, "threshold")


def _public_argument(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result | None:
    if c.params.get("public_only", True) and not ctx.public:
        return None
    return _lexicon_fail(c, text, ctx, lang)


def _acknowledges(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result | None:
    if not ctx.complaint or not ctx.is_complaint:
        return None
    reply_words = content_words(text)
    shared = reply_words & (content_words(ctx.complaint) | content_words(" ".join(ctx.topic_terms)))
    if len(shared) >= int(c.params.get("min_shared_terms", 1)):
        return True, 1.0, None
    m = _search(_both(c), text)
    return False, 0.0, _quote(text, m) if m else None


def _apology(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result | None:
    conditional = [p for pats in c.params.get("conditional", {}).values() for p in pats]
    m = _search(conditional, text)
    if m:
        return False, 0.0, _quote(text, m)
    if not ctx.at_fault:
        return None
    vague = [p for pats in c.params.get("vague", {}).values() for p in pats]
    owned = text
    for p in vague:  # "sorry for any inconvenience" does not own a fault
        owned = _rx(p).sub(" ", owned)
    m = _search(_both(c), owned)
    if m:
        return True, 1.0, _quote(owned, m)
    v = _search(vague, text)
    return False, 0.0, _quote(text, v) if v else None


def _next_step(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result | None:
    if not ctx.is_complaint:
        return None
    m = _search(_both(c), text)
    return (True, 1.0, _quote(text, m)) if m else (False, 0.0, None)


def _private(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result | None:
    if not ctx.public:
        return None
    for pattern in c.params.get("public_requests", []):
        for asks in _rx(pattern).finditer(text):
            # personal details asked for in the public thread: the opposite of moving to DM, whatever the
            # complaint (but "don't post your address here" is the advice the rubric wants, and "we'll
            # reply with the details" is the brand speaking)
            before = text[_sentence_of(text, asks)[0] : asks.start()]
            if not NEGATED.search(before) and not BRAND_SPEAKS.search(before):
                return False, 0.0, _quote(text, asks)
    if not ctx.is_complaint or ctx.issue_type in c.params.get("not_needed_for", ()):
        return None
    if ctx.incident and c.params.get("not_needed_for_incidents", False):
        return None
    m = _search(_both(c), text)
    return (True, 1.0, _quote(text, m)) if m else (False, 0.0, None)


# A sentence ends at . ! ? before a space (not the dot inside "Rp 412.000", nor after "Rp.", "p.m.", "Mr.")
SENTENCE_END = re.compile(r"(?<!\brp)(?<!\bp\.m)(?<!\ba\.m)(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bdr)(?<!\bno)[.!?](?=\s|$)|\n", re.IGNORECASE)
NEGATED = re.compile(r"\b(?:don\W?t|do not|never|no need to|jangan|tidak perlu|tak perlu|(?:tidak|gak|nggak) usah)\s+(?:(?:ever|please|to|pernah|perlu)\s+)?$", re.IGNORECASE)
BRAND_SPEAKS = re.compile(r"\b(?:we|we\W?ll|we will|i\W?ll|i will|kami|saya)\s+$", re.IGNORECASE)
CONDITION = re.compile(r"\b(?:if|unless|in case|kalau|kalo|jika|bila|apabila|seandainya)\b", re.IGNORECASE)
CLAUSE_BREAK = re.compile(r"[,;:]|\b(?:then|and|dan|lalu|maka)\b", re.IGNORECASE)


def _conditional(prefix: str) -> bool:
    """Whether text ending here sits inside a condition: a condition word with no clause break after it
    ("if it hasn't arrived by | tomorrow", not "if you DM us, you'll get it | tomorrow")."""
    words = list(CONDITION.finditer(prefix))
    return bool(words) and not CLAUSE_BREAK.search(prefix, words[-1].end())


def _sentence_of(text: str, m: re.Match[str]) -> tuple[int, int]:
    starts = [e.end() for e in SENTENCE_END.finditer(text, 0, m.start())]
    after = SENTENCE_END.search(text, m.end())
    return (starts[-1] if starts else 0), (after.end() if after else len(text))


def _overpromise(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result:
    m = _search(_both(c), text)
    if m:
        return False, 0.0, _quote(text, m)
    facts = _norm(" | ".join(ctx.allowed_facts))
    cues = c.params.get("amount_cues", [])
    for p in c.params.get("amounts", []):
        for cm in _rx(p).finditer(text):
            start, end = _sentence_of(text, cm)
            if _norm(cm.group(0)) not in facts and _search(cues, text[start:end]):
                sentence = text[start:end].strip()
                return False, 0.0, sentence if len(sentence) <= 200 else _quote(text, cm)
    for p in c.params.get("commitments", []):
        for cm in _rx(p).finditer(text):
            start, _ = _sentence_of(text, cm)
            if _norm(cm.group(0)) not in facts and not _conditional(text[start : cm.start()]):
                return False, 0.0, _quote(text, cm)
    return True, 1.0, None


def _pii(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result:
    allow = list(ctx.brand.contacts.values()) if ctx.brand else []
    found = privacy.find(text, allow=[*allow, *ctx.extra_allowed_pii])
    if not ctx.public:
        found = [f for f in found if f.kind in ("card", "national_id")]
    if found:
        return False, 0.0, _quote(text, (found[0].start, found[0].end))
    return True, 1.0, None


def _channel_fit(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result:
    limit = ctx.brand.channels[ctx.channel].max_chars if ctx.brand else 2500
    n = len(text.strip())
    if n > limit:
        return False, max(0.0, 1 - (n - limit) / limit), f"{n} characters; the {ctx.channel.value} limit is {limit}"
    if n < int(c.params.get("min_chars", 20)):
        return False, 0.0, text.strip()
    if ctx.channel in LETTER_CHANNELS:
        pats = _lex(c, lang)
        greeting, signoff = (pats + pats)[:2] if len(pats) < 2 else pats[:2]
        first = text.strip().splitlines()[0]
        tail = "\n".join(text.strip().splitlines()[-3:])
        if not _rx(greeting).search(first):
            return False, 0.5, f"no greeting: {first[:80]}"
        if not _rx(signoff).search(tail):
            return False, 0.5, "no sign-off at the end of the letter"
    return True, 1.0, None


def _language(c: Criterion, text: str, ctx: CheckContext, lang: Language) -> Result | None:
    if ctx.language is None:
        return None
    got = lang_detect.detect(text, default=ctx.language)
    if got != ctx.language:
        return False, 0.0, f"reply reads as {got.value}; the customer wrote in {ctx.language.value}"
    return True, 1.0, None


CHECKS: dict[str, CheckFn] = {
    "calm": _calm,
    "no_hostility": _lexicon_fail,
    "courteous": _lexicon_fail,
    "no_sarcasm": _lexicon_fail,
    "no_blame": _lexicon_fail,
    "no_public_argument": _public_argument,
    "acknowledges_problem": _acknowledges,
    "apology_when_at_fault": _apology,
    "next_step": _next_step,
    "private_channel": _private,
    "no_overpromise": _overpromise,
    "no_pii": _pii,
    "channel_fit": _channel_fit,
    "language_match": _language,
}


def check(text: str, *, rubric: Rubric, ctx: CheckContext) -> RubricVerdict:
    """Score ``text`` against every criterion of the rubric."""
    lang = ctx.language or lang_detect.detect(text)
    results: list[CriterionResult] = []
    for c in rubric.criteria:
        outcome = CHECKS[c.id](c, text, ctx, lang)
        if outcome is None:
            results.append(CriterionResult(id=c.id, passed=True, score=1.0, blocking=c.blocking, applicable=False))
            continue
        passed, score, evidence = outcome
        results.append(
            CriterionResult(
                id=c.id,
                passed=passed,
                score=round(score, 3),
                evidence=evidence,
                suggestion=None if passed else c.suggestion,
                blocking=c.blocking,
            )
        )
    weights = {c.id: c.weight for c in rubric.criteria}
    applicable = [r for r in results if r.applicable]
    total = sum(weights[r.id] for r in applicable) or 1.0
    score = sum(weights[r.id] * r.score for r in applicable) / total
    passed = all(r.passed for r in results if r.blocking) and score >= rubric.pass_threshold
    return RubricVerdict(passed=passed, score=round(score, 3), criteria=results)
