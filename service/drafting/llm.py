"""The LLM composer: the same interface as the playbook composer, backed by any OpenAI-compatible chat
model (through the ``ChatModel`` port), with a versioned prompt and only the retrieved sources as ground.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from pydantic import BaseModel, Field, ValidationError

from service.drafting.compose import Composed, ComposeRequest
from service.errors import ModelOutputInvalid
from service.models import LETTER_CHANNELS, CriterionResult
from service.ports import ChatModel
from service.prompting.output import json_object
from service.prompting.registry import Prompt

log = logging.getLogger(__name__)

class _Variant(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class _Output(BaseModel):
    variants: list[_Variant] = Field(min_length=1)


def parse_output(raw: str) -> list[str]:
    """Read the model's JSON answer; raise ModelOutputInvalid on anything else."""
    try:
        data = _Output.model_validate(json_object(raw, "the model's answer"))
    except ValidationError as exc:
        raise ModelOutputInvalid(f"the model's answer is not the agreed JSON: {str(exc)[:200]}") from exc
    texts = [v.text.strip() for v in data.variants if v.text.strip()]
    if not texts:
        raise ModelOutputInvalid("the model returned only empty variants")
    return texts


class _Revised(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


def parse_revision(raw: str) -> str:
    """Read the model's revised reply ({"text": ...}); raise ModelOutputInvalid on anything else."""
    try:
        text = _Revised.model_validate(json_object(raw, "the model's revision")).text.strip()
    except ValidationError as exc:
        raise ModelOutputInvalid(f"the model's revision is not the agreed JSON: {str(exc)[:200]}") from exc
    if not text:
        raise ModelOutputInvalid("the model returned an empty revision")
    return text


class LLMComposer:
    def __init__(self, chat: ChatModel, prompt: Prompt, brand_name: str, revise_prompt: Prompt | None = None) -> None:
        self.chat, self.prompt, self.brand_name, self.revise_prompt = chat, prompt, brand_name, revise_prompt

    @property
    def name(self) -> str:
        return f"llm:{self.chat.model}"

    def variables(self, req: ComposeRequest) -> dict[str, str]:
        c = req.classification
        lang = c.language
        facts = [f for s in req.sources if s.kind == "policy" for f in s.facts]
        replies = [s.text for s in req.sources if s.kind == "past_reply"][:3]
        inc = req.context.incident
        incident = (
            f"{inc.title} (status: {inc.status}; brand at fault: {inc.at_fault}). {inc.public_note or ''}".strip()
            if inc and inc.title
            else "none"
        )
        return {
            "brand": self.brand_name,
            "language": lang.value,
            "channel": req.channel.value + (" (a letter: greeting and sign-off)" if req.channel in LETTER_CHANNELS else ""),
            "public": "yes" if req.public else "no",
            "max_chars": str(req.brand.channels[req.channel].max_chars),
            "issue_type": c.issue_type,
            "severity": c.severity.value,
            "at_fault": "yes" if c.at_fault else "not established",
            "customer_name": req.context.first_name(req.author_name) or "unknown",
            "order": req.context.order(req.text) or "none given",
            "incident": incident,
            "policy_facts": "\n".join(f"- {f}" for f in dict.fromkeys(facts)) or "- (none retrieved: promise nothing specific)",
            "past_replies": "\n".join(f"- {r}" for r in replies) or "- (none)",
            "n_variants": str(req.variants),
            "complaint": req.text,
        }  # fmt: skip

    def compose(self, req: ComposeRequest) -> list[Composed]:
        messages = self.prompt.render(**self.variables(req))
        t0 = time.perf_counter()
        raw = self.chat.complete(messages)
        log.info(
            "llm call prompt=%s@%s model=%s latency_ms=%d",
            self.prompt.file.name, self.prompt.ref_str, self.chat.model, (time.perf_counter() - t0) * 1000,
        )  # fmt: skip
        return [Composed(text, f"llm_{i + 1}") for i, text in enumerate(parse_output(raw)[: req.variants])]

    def revise(self, req: ComposeRequest, draft: str, findings: Sequence[CriterionResult]) -> str:
        """Ask the model to fix what the rubric found in one of its drafts (the ``revise_reply`` prompt)."""
        if self.revise_prompt is None:
            raise ModelOutputInvalid("no revise_reply prompt is active")
        v = self.variables(req)
        listed = "\n".join(f"- {f.id}: {f.evidence or 'failed'}; {f.suggestion or ''}".rstrip("; ") for f in findings)
        messages = self.revise_prompt.render(
            brand=v["brand"], language=v["language"], channel=v["channel"], public=v["public"], max_chars=v["max_chars"],
            policy_facts=v["policy_facts"], complaint=v["complaint"], draft=draft, findings=listed,
        )  # fmt: skip
        t0 = time.perf_counter()
        raw = self.chat.complete(messages)
        log.info("llm call prompt=%s@%s model=%s latency_ms=%d", self.revise_prompt.file.name,
                 self.revise_prompt.ref_str, self.chat.model, (time.perf_counter() - t0) * 1000)  # fmt: skip
        return parse_revision(raw)
