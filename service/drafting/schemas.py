"""The HTTP contract of drafting: ``DraftCreate`` in, ``DraftRead`` out."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated

from pydantic import BeforeValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from service.drafting.context import DraftContext
from service.models import (
    PUBLIC_CHANNELS, Author, Channel, Complaint, Draft, Language,
)  # fmt: skip

MAX_TEXT = 10_000
INVISIBLE = re.compile("[\x00\u200b-\u200f\u2060-\u2064\ufeff]")  # and NUL, which PostgreSQL text refuses


def _visible(v: object) -> object:
    """Zero-width characters alone are not a complaint: drop them before the length checks."""
    return INVISIBLE.sub("", v) if isinstance(v, str) else v


Text = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
    BeforeValidator(_visible),
]


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(description="What the customer wrote (1 to 10,000 characters).")
    channel: Channel
    public: StrictBool | None = Field(
        default=None, description="Whether the reply is visible to others; default: from the channel."
    )
    author: Author | None = None
    language: Language | None = Field(default=None, description="en or id; detected when absent.")

    def to_domain(self, public_channels: Collection[Channel] = PUBLIC_CHANNELS) -> Complaint:
        """The complaint; when `public` is not given, the brand's channel settings decide."""
        public = self.public if self.public is not None else self.channel in public_channels
        return Complaint(text=self.text, channel=self.channel, public=public, author=self.author, language=self.language)


class DraftOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variants: StrictInt = Field(default=3, ge=1, le=3)


class DraftCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "complaint": {
                        "text": "@kedainusa my order KN-482913 was due yesterday and still nothing. Again.",
                        "channel": "twitter",
                        "public": True,
                        "author": {"handle": "@rina_w", "name": "Rina", "followers": 1200},
                    },
                    "context": {"customer": {"name": "Rina"}, "order_id": "KN-482913"},
                    "options": {"variants": 3},
                }
            ]
        },
    )
    complaint: ComplaintIn
    context: DraftContext = Field(default_factory=DraftContext)
    options: DraftOptions = Field(default_factory=DraftOptions)


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    complaint: ComplaintIn
    context: DraftContext = Field(default_factory=DraftContext)


class DraftRead(Draft):
    """A draft as the API returns it: the complaint (and its redacted text), the classification, the
    sources, the variants with their rubric verdicts, and what reviewers did with it."""


class ToneCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text
    complaint: ComplaintIn | None = None
    channel: Channel | None = None
    public: StrictBool | None = None
    context: DraftContext = Field(default_factory=DraftContext)
    judge: StrictBool = Field(
        default=False, description="Also ask the model judge (empathy, transparency, specificity; advisory). "
        "Needs a configured model: 409 model-not-configured otherwise.",
    )

    def resolved(
        self, public_channels: Collection[Channel], *, channel: Channel = Channel.chat, public: bool | None = None
    ) -> tuple[Complaint | None, Channel, bool]:
        """The complaint, channel and visibility to check against: what this request gives, else its
        complaint's, else the defaults (``public`` None: whether the channel is public)."""
        complaint = self.complaint.to_domain(public_channels) if self.complaint else None
        ch = self.channel or (complaint.channel if complaint else channel)
        if self.public is not None:
            visible = self.public
        elif complaint is not None and self.channel is None:
            visible = complaint.public
        else:
            visible = ch in public_channels if public is None else public
        return complaint, ch, visible
