"""The playbook composer: replies built from the playbook's blocks, the classification, the retrieved
policy facts and the context, fitted to the channel, in the customer's language. No model needed.

Each variant follows a different structure (which blocks, in which order), so a reviewer chooses
between genuinely different replies, not between synonyms.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from service.drafting.context import DraftContext
from service.language import detect
from service.knowledge.pack import Brand, Playbook, ReplyBlocks
from service.models import LETTER_CHANNELS, Channel, Classification, Language, Severity, Source

PROPER_START = re.compile(r"^(?:I\b|I'|Kedai|Nusa|NusaPay|DM|OTP|BPOM|KN-|Kakak|Bapak|Ibu|Kak\b)")

SORRY_OURS = {
    Language.en: ["I'm sorry {problem}; that's on us.", "Sorry {problem}; this one is our mistake.",
                  "I'm so sorry {problem}, and that's on us."],
    Language.id: ["Mohon maaf, {problem}; ini kesalahan kami.", "Maaf sekali, {problem}, dan itu kesalahan kami.",
                  "Kami mohon maaf, {problem}; ini tanggung jawab kami."],
}
STATE = {
    Language.en: ["{Problem}, and I know how frustrating that is.", "{Problem}; I understand why you're upset.",
                  "{Problem}, and I can see why that's frustrating."],
    Language.id: ["{Problem}, dan kami paham itu mengecewakan.", "{Problem}, dan kami mengerti {you} kecewa.",
                  "{Problem}; kami paham ini merepotkan {you}."],
}
STATE_SERIOUS = {
    Language.en: ["{Problem}, and we're taking it very seriously.", "{Problem}; that's serious, and we're on it.",
                  "{Problem}, and we're treating it as a priority."],
    Language.id: ["{Problem}, dan kami menanganinya dengan serius.", "{Problem}; ini hal serius dan sedang kami tangani.",
                  "{Problem}, dan ini menjadi prioritas kami."],
}
SERIOUS_ISSUES = frozenset({"product_safety", "data_privacy", "account_access"})
SORRY = {
    Language.en: ["I'm sorry {problem}.", "Sorry to hear {problem}.", "I'm really sorry {problem}."],
    Language.id: ["Mohon maaf, {problem}.", "Maaf sekali, {problem}.", "Kami mohon maaf, {problem}."],
}
INCIDENT = {
    Language.en: {
        "investigating": "We know about the {title} and our team is investigating it now.",
        "identified": "We've found the cause of the {title} and are working on a fix.",
        "monitoring": "A fix for the {title} is in place and we're monitoring it closely.",
        "resolved": "The {title} has now been resolved.",
    },
    Language.id: {
        "investigating": "Kami sudah mengetahui kendala {title} dan tim kami sedang menanganinya.",
        "identified": "Penyebab kendala {title} sudah kami temukan dan perbaikannya sedang berjalan.",
        "monitoring": "Perbaikan untuk kendala {title} sudah diterapkan dan sedang kami pantau.",
        "resolved": "Kendala {title} sudah teratasi.",
    },
}
# How much each slot matters when a reply must be shortened (the lowest goes first).
KEEP = {
    "close": 1, "incident_note": 2, "fact": 3, "action": 4, "empathy": 6, "acknowledge": 6,
    "apology": 8.5, "acknowledge_problem": 7, "state_problem": 8, "sorry_problem": 8, "sorry_ours": 8, "incident": 9, "ask_details": 10, "ask_private": 10,
}  # fmt: skip
SIGN_OFF = {Language.en: "Kind regards,", Language.id: "Salam hangat,"}


@dataclass
class ComposeRequest:
    text: str  # the complaint, already redacted
    classification: Classification
    playbook: Playbook
    brand: Brand
    channel: Channel
    public: bool
    context: DraftContext
    sources: Sequence[Source] = ()
    facts: Sequence[str] = ()  # policy facts from the retrieved sources, most relevant first
    ranked: dict[str, list[str]] = field(default_factory=dict)  # block key -> items, best fit first
    salt: int = 0  # > 0 when regenerating: rotates the wording so the new draft reads differently
    avoid: frozenset[str] = frozenset()  # sentences the rubric quoted as failing: revisions choose other blocks
    author_name: str | None = None
    variants: int = 3


@dataclass
class Composed:
    text: str
    structure: str


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _you(lang: Language, channel: Channel) -> str:
    if lang is Language.id and channel in LETTER_CHANNELS | {Channel.review}:
        return "Bapak/Ibu"
    return "Kakak"


def _lower_first(sentence: str) -> str:
    if not sentence or PROPER_START.match(sentence) or not sentence[:2].istitle():
        return sentence
    return sentence[0].lower() + sentence[1:]


def _upper_first(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:] if sentence else sentence


# Asks for when the customer already gave the order number (the playbook's asks may all request it).
ASK_KNOWN_ORDER = {
    Language.en: {
        "ask_private": ["Please send us a DM so we can look into {order} with you; don't post personal details here.",
                        "DM us and we'll pick up {order} with you there; please keep personal details off this thread."],
        "ask_details": ["I'm looking into {order} now, and I'll reply here with what I find.",
                        "I've pulled up {order} and our team is checking it now."],
    },
    Language.id: {
        "ask_private": ["Silakan DM kami agar {order} bisa kami cek bersama {you}; mohon jangan tulis data pribadi di sini.",
                        "Mohon lanjutkan lewat DM, ya; kami cek {order} untuk {you} di sana."],
        "ask_details": ["Kami sedang mengecek {order} sekarang dan akan membalas di sini dengan hasilnya.",
                        "{order} sudah kami buka dan tim kami sedang mengeceknya."],
    },
}  # fmt: skip
ASKS_FOR_ORDER = re.compile(r"order number|nomor pesanan|starts with KN|diawali KN", re.IGNORECASE)


def _avoided(sentence: str, avoid: frozenset[str]) -> bool:
    core = sentence.strip().rstrip(".!?").lower()
    return any(core and (core in quote.lower() or quote.lower() in sentence.lower()) for quote in avoid)


class _Picker:
    """Chooses block items: the best-fitting ones first, rotated so that variants differ in wording."""

    TOP = 2  # variants take turns among this many best-fitting items

    def __init__(
        self, blocks: ReplyBlocks, fill: dict[str, str], seed: int, ranked: dict[str, list[str]],
        order_known: bool = False, lang: Language = Language.en,
    ) -> None:  # fmt: skip
        self.blocks, self.fill, self.seed, self.ranked = blocks, fill, seed, ranked
        self.order_known, self.lang = order_known, lang

    def options(self, key: str, variant: int, *, only: str | None = None) -> list[str]:
        items: list[str] = self.ranked.get(key) or getattr(self.blocks, key)
        if self.order_known and key.startswith("ask"):  # don't ask for what the customer already gave
            fresh = [i for i in items if not ASKS_FOR_ORDER.search(i)]
            items = fresh or ASK_KNOWN_ORDER[self.lang][key]
        if only:
            items = [i for i in items if only in i] or items
        if key in self.ranked:
            top = items[: self.TOP]
            first = top[variant % len(top)]
            ordered = [first, *(i for i in items if i != first)]
        else:
            start = (self.seed + variant * 3 + len(key)) % len(items)
            ordered = items[start:] + items[:start]
        return [self.render(s) for s in ordered]

    def render(self, template: str) -> str:
        out = template
        for k, v in self.fill.items():
            out = out.replace("{" + k + "}", v)
        return _upper_first(out.strip())


def _title(incident_title: str) -> str:
    t = incident_title.strip().rstrip(".")
    return _lower_first(t)


def _incident_line(req: ComposeRequest, lang: Language) -> str:
    inc = req.context.incident
    if not inc or not inc.title:
        return ""
    return INCIDENT[lang][inc.status].format(title=_title(inc.titles.get(lang) or inc.title))


def _incident_note(req: ComposeRequest, lang: Language) -> str:
    """The incident's public note, when it is written in the customer's language."""
    inc = req.context.incident
    if not inc or not inc.title or not inc.public_note or detect(inc.public_note, default=lang) != lang:
        return ""
    return _upper_first(inc.public_note.strip())


def _plans(req: ComposeRequest) -> list[tuple[str, list[tuple[str, bool]]]]:
    """Structures as (name, [(slot, required)]) in order of preference."""
    c = req.classification
    ask = "ask_private" if req.public else "ask_details"
    own = "apology" if c.at_fault else "empathy"
    if not c.is_complaint:
        if req.classification.sentiment.value == "positive" or req.playbook.issue_type == "praise":
            return [
                ("thanks_and_share", [("acknowledge", True), ("action", True), ("close", False)]),
                ("warm_thanks", [("acknowledge", True), ("close", True)]),
                ("thanks_and_invite", [("acknowledge", True), ("ask_private", True)]),
            ]
        return [
            ("boundary_and_help", [("acknowledge", True), ("ask_private", True)]),
            ("empathy_and_help", [("empathy", True), ("ask_private", True)]),
            ("help_only", [("action", True), ("ask_private", True)]),
        ]
    sorry = "sorry_ours" if c.at_fault else "sorry_problem"
    return [
        ("acknowledge_own_act", [("acknowledge_problem", True), (own, True), ("incident", True), ("incident_note", False),
                                  ("action", False), ("fact", False), (ask, True), ("close", False)]),
        ("sorry_then_ask", [(sorry, True), ("incident", True), ("incident_note", False), (ask, True),
                            ("fact", False), ("close", False)]),
        ("brief", [("state_problem", True), ("apology" if c.at_fault else "", True), ("incident", True),
                   (ask, True)]),
    ]  # fmt: skip


class PlaybookComposer:
    """Deterministic, grounded, bilingual composer (the default generator)."""

    name = "composer"

    def compose(self, req: ComposeRequest) -> list[Composed]:
        lang = req.classification.language
        blocks = req.playbook.reply[lang]
        you = _you(lang, req.channel)
        order_id = req.context.order(req.text)
        order = (
            (f"order {order_id}" if lang is Language.en else f"pesanan {order_id}")
            if order_id
            else ("your order" if lang is Language.en else f"pesanan {you}")
        )
        seed = _seed(req.text) + req.salt
        base_fill = {"you": you, "order": order}
        problems = _Picker(blocks, base_fill, seed, req.ranked).options("problem", 0)
        limit = req.brand.channels[req.channel].max_chars
        facts = list(req.facts)
        out: list[Composed] = []
        # A revision names the problem in other words when the rubric quoted a sentence carrying it.
        problems = [p for p in problems if not _avoided(p, req.avoid)] or problems
        for v, (name, plan) in enumerate(_plans(req)[: req.variants]):
            problem = _lower_first(problems[0].rstrip("."))
            picker = _Picker(blocks, {**base_fill, "problem": problem}, seed, req.ranked, order_known=bool(order_id), lang=lang)
            slots: list[tuple[str, list[str], bool]] = []
            for slot, required in plan:
                if not slot:
                    continue
                options = self._slot(slot, picker, v + req.salt, lang, problem, facts, req)
                if req.avoid:  # a revision: never reuse a sentence the rubric failed; drop the slot if optional
                    fresh = [o for o in options if not _avoided(o, req.avoid)]
                    options = fresh if fresh or not required else options
                if options:
                    slots.append((slot, options, required))
            out.append(Composed(self._fit(slots, req, lang, limit), name))
        return out

    def _slot(
        self, slot: str, picker: _Picker, v: int, lang: Language, problem: str,
        facts: list[str], req: ComposeRequest,
    ) -> list[str]:  # fmt: skip
        if slot == "state_problem":
            c = req.classification
            serious = c.severity.rank >= Severity.high.rank or c.issue_type in SERIOUS_ISSUES
            pool = (STATE_SERIOUS if serious else STATE)[lang]
            pool = pool[v % len(pool) :] + pool[: v % len(pool)]
            return [t.format(Problem=_upper_first(problem), you=picker.fill["you"]) for t in pool]
        if slot in ("sorry_problem", "sorry_ours"):
            pool = (SORRY if slot == "sorry_problem" else SORRY_OURS)[lang]
            templates = pool[v % len(pool) :] + pool[: v % len(pool)]
            return [t.format(problem=problem) for t in templates]
        if slot == "acknowledge_problem":
            return picker.options("acknowledge", v, only="{problem}")
        if slot == "incident":
            line = _incident_line(req, lang)
            return [line] if line else []
        if slot == "incident_note":
            note = _incident_note(req, lang)
            return [note] if note else []
        if slot == "fact":
            if not facts:
                return []
            i = v % len(facts)
            return [facts[i], *facts[:i], *facts[i + 1 :]]
        return picker.options(slot, v)

    def _fit(
        self, slots: list[tuple[str, list[str], bool]], req: ComposeRequest, lang: Language, limit: int
    ) -> str:
        """Fit the channel: drop optional slots, then use the shortest wording, then drop the least
        important required slots (never the ask, which carries the next step)."""
        chosen = [opts[0] for _, opts, _ in slots]
        text = self._render(chosen, req, lang)
        for i in sorted(range(len(slots)), key=lambda i: KEEP.get(slots[i][0], 5)):
            if len(text) <= limit:
                return text
            if not slots[i][2]:
                chosen[i] = ""
                text = self._render(chosen, req, lang)
        chosen = [min(opts, key=len) if c else "" for (_, opts, _), c in zip(slots, chosen, strict=True)]
        text = self._render(chosen, req, lang)
        for i in sorted(range(len(slots)), key=lambda i: KEEP.get(slots[i][0], 5)):
            if len(text) <= limit or sum(1 for c in chosen if c) <= 2:
                break
            if chosen[i] and KEEP.get(slots[i][0], 5) < KEEP["ask_private"]:
                chosen[i] = ""
                text = self._render(chosen, req, lang)
        return text

    def _greeting(self, req: ComposeRequest, lang: Language) -> str:
        name = req.context.first_name(req.author_name)
        you = _you(lang, req.channel)
        if lang is Language.id:
            short = "Kak" if you == "Kakak" else you
            return f"Halo {short} {name}," if name else f"Halo {short},"
        if req.channel in LETTER_CHANNELS:
            return f"Hi {name}," if name else "Hello,"
        return f"Hi {name}," if name else ""

    def _render(self, sentences: list[str], req: ComposeRequest, lang: Language) -> str:
        parts = [s for s in sentences if s]
        greeting = self._greeting(req, lang)
        if req.channel in LETTER_CHANNELS:
            sign = req.brand.sign_off[lang]
            mid = max(1, (len(parts) + 1) // 2)
            paragraphs = [" ".join(parts[:mid]), " ".join(parts[mid:])]
            body = "\n\n".join(p for p in paragraphs if p)
            return f"{greeting}\n\n{body}\n\n{SIGN_OFF[lang]}\n{sign.name}\n{sign.team}"
        body = " ".join(parts)
        if greeting:
            return f"{greeting} {_lower_first(body)}"
        return body
