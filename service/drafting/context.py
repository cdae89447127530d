"""The context a caller sends with a complaint (customer, order, thread, incident)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service import privacy
from service.models import IncidentStatus, Language

ORDER_RE = re.compile(r"\bKN-?\d{6}\b", re.IGNORECASE)
HONORIFICS = frozenset(
    "mr mrs ms miss mx dr prof sir madam bapak pak ibu bu kak kakak mas mbak bang sdr sdri tuan nyonya haji hj".split()
)
ORDER_ID = r"^[A-Za-z0-9][A-Za-z0-9._/#-]{0,63}$"


class Customer(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, max_length=120)
    id: str | None = Field(default=None, max_length=120)


class ThreadMessage(BaseModel):
    role: Literal["customer", "agent"] = "customer"
    text: str = Field(max_length=10_000)


class Incident(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    title: str | None = Field(default=None, max_length=300)
    status: IncidentStatus = IncidentStatus.investigating
    titles: dict[Language, str] = Field(default_factory=dict, description="The title in other languages.")
    at_fault: bool = False
    public_note: str | None = Field(default=None, max_length=2000)

    @field_validator("title", "public_note")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v.strip() or None if v is not None else None


class DraftContext(BaseModel):
    """Everything optional; unknown keys are kept with the draft."""

    model_config = ConfigDict(extra="allow")
    customer: Customer | None = None
    order_id: str | None = Field(default=None, max_length=64, pattern=ORDER_ID)
    thread: list[ThreadMessage] = Field(default_factory=list, max_length=50)
    incident: Incident | None = None
    at_fault: bool | None = None

    def first_name(self, fallback: str | None = None) -> str | None:
        """The name to greet: the first given name, without honorifics ("Ibu Sari" -> "Sari")."""
        for candidate in ((self.customer.name if self.customer else None), fallback):
            words = [w.strip(",.@") for w in (candidate or "").split()]
            words = [w for w in words if w and w.lower().rstrip(".") not in HONORIFICS]
            if words and words[0].isalpha() and len(words[0]) <= 30:
                return words[0][:1].upper() + words[0][1:]
        return None

    def order(self, complaint_text: str) -> str | None:
        """The order reference to name in a reply; never something that looks like personal data."""
        if self.order_id and self.order_id.strip() and not privacy.find(self.order_id):
            return self.order_id.strip()
        m = ORDER_RE.search(complaint_text)
        return m.group(0).upper() if m else None

    def brand_at_fault(self) -> bool:
        if self.at_fault is not None:
            return self.at_fault
        return bool(self.incident and self.incident.at_fault)
