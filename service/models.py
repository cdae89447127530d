"""The shared vocabulary of the domain: enums and value objects used by drafting, tone and review.

Enum values are lower_snake and stable: they appear in the API, the database, prompts and eval files.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class Channel(StrEnum):
    twitter = "twitter"
    facebook = "facebook"
    instagram = "instagram"
    tiktok = "tiktok"
    review = "review"
    email = "email"
    chat = "chat"
    helpdesk = "helpdesk"


PUBLIC_CHANNELS = frozenset({Channel.twitter, Channel.facebook, Channel.instagram, Channel.tiktok, Channel.review})
LETTER_CHANNELS = frozenset({Channel.email, Channel.helpdesk})


class Language(StrEnum):
    en = "en"
    id = "id"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Sentiment(StrEnum):
    negative = "negative"
    neutral = "neutral"
    positive = "positive"


class Cause(StrEnum):
    our_error = "our_error"
    misunderstanding = "misunderstanding"
    product_or_service_complaint = "product_or_service_complaint"
    unclear = "unclear"


class DraftStatus(StrEnum):
    pending_review = "pending_review"
    approved = "approved"
    rejected = "rejected"
    superseded = "superseded"
    sent = "sent"


class IncidentStatus(StrEnum):
    investigating = "investigating"
    identified = "identified"
    monitoring = "monitoring"
    resolved = "resolved"


class DraftKind(StrEnum):
    reply = "reply"  # a reply to a complaint
    follow_up = "follow_up"  # news about an incident, to a thread that already received a reply
    recovery = "recovery"  # a public "what happened and what we changed" post after an incident


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid")
    handle: str = Field(min_length=1, max_length=100)
    name: str | None = Field(default=None, max_length=120)
    followers: StrictInt | None = Field(default=None, ge=0)


class Complaint(BaseModel):
    """What the customer wrote, where, and who they are (already validated)."""

    text: str
    channel: Channel
    public: bool
    author: Author | None = None
    language: Language | None = None


class IssueGuess(BaseModel):
    issue_type: str
    probability: float


class Classification(BaseModel):
    issue_type: str
    confidence: float
    unclear: bool = Field(
        default=False,
        description="The issue type is a weak guess: held-out examples this unsure were wrong more often "
        "than right. The reviewer should check it (see `alternatives`).",
    )
    alternatives: list[IssueGuess] = Field(
        default_factory=list, description="The next likeliest issue types (probability >= 0.1), at most two."
    )
    is_complaint: bool
    severity: Severity
    sentiment: Sentiment
    language: Language
    cause: Cause
    at_fault: bool
    signals: list[str]


class Source(BaseModel):
    """A passage retrieved from the vector store and shown with the draft."""

    id: str
    kind: str  # policy | past_reply
    title: str
    snippet: str
    score: float
    facts: list[str] = Field(default_factory=list, exclude=True)
    text: str = Field(default="", exclude=True)


class CriterionResult(BaseModel):
    id: str
    passed: bool
    score: float
    evidence: str | None = None
    suggestion: str | None = None
    blocking: bool = True
    applicable: bool = True


class JudgeScore(BaseModel):
    criterion: str
    score: int = Field(ge=1, le=5, description="The model judge's score, 1 to 5; 3 or more meets the criterion.")
    passed: bool
    reason: str


class JudgeVerdict(BaseModel):
    """The optional model judge's view of the subjective criteria: advisory, it never decides ``passed``."""

    model: str
    prompt: str = Field(description="The judge prompt's name@version:sha.")
    scores: list[JudgeScore] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why the judge gave no scores (the model failed).")


class RubricVerdict(BaseModel):
    passed: bool
    score: float
    criteria: list[CriterionResult]
    judge: JudgeVerdict | None = Field(default=None, description="Only when the model judge was asked for.")


class Revision(BaseModel):
    """One rejected attempt at a variant: its text, and the blocking criteria it failed with their evidence."""

    attempt: int = Field(description="0 for the first text, then 1, 2, ...")
    text: str
    generator: str
    failed: list[str]
    evidence: list[str] = Field(default_factory=list, description="Per failed criterion, what the rubric quoted.")
    action: str = Field(description="What was done about it: another composition, or the model asked to revise.")


class Variant(BaseModel):
    id: str
    text: str
    generator: str
    fallback_reason: str | None = None
    structure: str | None = None
    rubric: RubricVerdict
    revisions: list[Revision] = Field(
        default_factory=list, description="Earlier texts of this variant that failed the rubric, oldest first."
    )


class Approval(BaseModel):
    actor: str
    role: str
    at: datetime
    variant_id: str | None = None
    edited: bool = False
    note: str | None = None
    override_reason: str | None = None


class Review(BaseModel):
    """What people did with a draft (the variants themselves never change)."""

    approvals: list[Approval] = Field(default_factory=list)
    required_approvals: int = 1
    final_text: str | None = None
    final_variant_id: str | None = None
    final_rubric: RubricVerdict | None = None
    rejected_reason: str | None = None
    superseded_by: str | None = None
    supersedes: str | None = None
    regenerate_feedback: str | None = None
    generation: int = 0  # how many times this complaint was regenerated
    sent_at: datetime | None = None
    external_id: str | None = None


class PromptRef(BaseModel):
    name: str
    version: int
    sha256: str


class Draft(BaseModel):
    id: str
    status: DraftStatus = DraftStatus.pending_review
    complaint: Complaint
    redacted_text: str
    context: dict[str, Any]
    classification: Classification
    sources: list[Source]
    variants: list[Variant]
    deadline: datetime
    prompt_refs: dict[str, str]
    playbook: str
    retrieval_error: str | None = None
    created_at: datetime
    version: int = 1
    review: Review = Field(default_factory=Review)
    kind: DraftKind = DraftKind.reply
    incident_id: str | None = Field(default=None, description="The open incident this complaint was linked to.")
    follows: str | None = Field(default=None, description="For a follow-up: the draft whose thread it continues.")
