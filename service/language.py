"""Language detection for English and Indonesian, from function words (fast, no model)."""

from __future__ import annotations

import re

from service.models import Language

WORD_RE = re.compile(r"[a-zA-Z']+")

_ID_WORDS = frozenset(
    """yang dan di ke dari ini itu tidak tak gak ga nggak enggak ngga saya aku kami kita kamu anda
    sudah udah belum sudah sdh blm tapi tetapi karena krn untuk utk dengan dgn atau juga lagi masih
    akan bisa tolong mohon maaf terima kasih makasih pesanan barang kirim dikirim sampai apa kenapa
    mengapa bagaimana gimana kapan dong deh sih nih kok ya min kak kakak bapak ibu sama ada adalah
    jadi harus dalam pada oleh kalau kalo banget bgt aja saja sangat hari jam uang bayar saldo
    akun tidak bukan sekali nya kok mana sini sana lho loh tuh udh gimana gmn klo yg dr tdk""".split()
)
_EN_WORDS = frozenset(
    """the and is are was were to of in on for with my your our you i we it this that not no have has
    had be been do does did will would can could should please thanks thank sorry order my me again
    what why when how where there their they them at by from an a just still yet but so if or as
    about after before than then because very really all any get got been being which who""".split()
)


def detect(text: str, default: Language = Language.en) -> Language:
    """Return ``id`` or ``en``; ties and texts with no known words fall back to ``default``."""
    words = [w.lower() for w in WORD_RE.findall(text)]
    if not words:
        return default
    id_hits = sum(1 for w in words if w in _ID_WORDS)
    en_hits = sum(1 for w in words if w in _EN_WORDS)
    if id_hits == en_hits:
        return default
    return Language.id if id_hits > en_hits else Language.en
