"""Personal data in free text: find it, redact it before any model call, keep it out of public replies.

Covers email addresses, phone numbers (Indonesian and international), payment card numbers (checked
with the Luhn sum) and Indonesian national ID numbers (NIK, 16 digits).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
CARD_RE = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")
NIK_RE = re.compile(r"(?<![\w-])\d{16}(?![\w-])")
PHONE_RE = re.compile(
    r"(?<![\w-])(?:\+?62[ .-]?|0)8\d{1,3}(?:[ .-]?\d{2,4}){2,3}(?![\w-])"  # Indonesian mobile
    r"|(?<![\w-])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w-])"  # international with a +
    r"|(?<![\w-])\(?0[1-79]\d{1,2}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w-])"  # Indonesian landline, e.g. (021) 555-1234
)


@dataclass(frozen=True)
class Match:
    kind: str  # email | phone | card | national_id
    start: int
    end: int
    text: str


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def find(text: str, allow: Iterable[str] = ()) -> list[Match]:
    """Personal data in text, left to right, ignoring the brand's own contacts in ``allow``."""
    allowed = {a.lower() for a in allow}
    found: list[Match] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, m: re.Match[str]) -> None:
        if m.group(0).lower() in allowed or any(s < m.end() and m.start() < e for s, e in taken):
            return
        found.append(Match(kind, m.start(), m.end(), m.group(0)))
        taken.append((m.start(), m.end()))

    for m in EMAIL_RE.finditer(text):
        add("email", m)
    for m in NIK_RE.finditer(text):
        if not _luhn(m.group(0)):  # a 16-digit Luhn-valid number is more likely a card
            add("national_id", m)
    for m in CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _luhn(digits):
            add("card", m)
        elif len(digits) == 16:  # a NIK written in groups, e.g. 3171 0123 4567 0001
            add("national_id", m)
    for m in PHONE_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 8 <= len(digits) <= 15:
            add("phone", m)
    return sorted(found, key=lambda f: f.start)


LABELS = {"email": "[email]", "phone": "[phone]", "card": "[card number]", "national_id": "[ID number]"}


def redact(text: str, allow: Iterable[str] = ()) -> tuple[str, list[Match]]:
    """Replace personal data with labels such as ``[email]``; return the text and what was removed."""
    matches = find(text, allow)
    out, pos = [], 0
    for m in matches:
        out.append(text[pos : m.start])
        out.append(LABELS[m.kind])
        pos = m.end
    out.append(text[pos:])
    return "".join(out), matches
