"""The context a caller sends with a complaint (customer, order, thread, incident)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ORDER_RE = re.compile(r"\bKN-?\d{6}\b", re.IGNORECASE)


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
    status: Literal["investigating", "identified", "monitoring", "resolved"] = "investigating"
    at_fault: bool = False
    public_note: str | None = Field(default=None, max_length=2000)


class DraftContext(BaseModel):
    """Everything optional; unknown keys are kept with the draft."""

    model_config = ConfigDict(extra="allow")
    customer: Customer | None = None
    order_id: str | None = Field(default=None, max_length=64)
    thread: list[ThreadMessage] = Field(default_factory=list, max_length=50)
    incident: Incident | None = None
    at_fault: bool | None = None

    def first_name(self, fallback: str | None = None) -> str | None:
        name = (self.customer.name if self.customer else None) or fallback
        if not name:
            return None
        first = name.strip().split()[0].strip(",.@")
        return first if first.isalpha() and len(first) <= 30 else None

    def order(self, complaint_text: str) -> str | None:
        if self.order_id:
            return self.order_id.strip()
        m = ORDER_RE.search(complaint_text)
        return m.group(0).upper() if m else None

    def brand_at_fault(self) -> bool:
        if self.at_fault is not None:
            return self.at_fault
        return bool(self.incident and self.incident.at_fault)
