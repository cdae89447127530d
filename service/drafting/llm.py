"""The LLM composer: the same interface as the playbook composer, backed by any OpenAI-compatible chat
model (through the ``ChatModel`` port), with a versioned prompt and only the retrieved sources as ground.
"""

from __future__ import annotations

import json
import logging
import re
import time

from pydantic import BaseModel, Field, ValidationError

from service.drafting.compose import Composed, ComposeRequest
from service.errors import ModelOutputInvalid
from service.models import LETTER_CHANNELS
from service.ports import ChatModel
from service.prompting.registry import Prompt

log = logging.getLogger(__name__)

FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


class _Variant(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class _Output(BaseModel):
    variants: list[_Variant] = Field(min_length=1)


def parse_output(raw: str) -> list[str]:
    """Read the model's JSON answer; raise ModelOutputInvalid on anything else."""
    cleaned = FENCE_RE.sub("", raw.strip())
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start == -1 or end <= start:
        raise ModelOutputInvalid("the model's answer contains no JSON object")
    try:
        data = _Output.model_validate(json.loads(cleaned[start : end + 1]))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ModelOutputInvalid(f"the model's answer is not the agreed JSON: {str(exc)[:200]}") from exc
    texts = [v.text.strip() for v in data.variants if v.text.strip()]
    if not texts:
        raise ModelOutputInvalid("the model returned only empty variants")
    return texts


class LLMComposer:
    def __init__(self, chat: ChatModel, prompt: Prompt, brand_name: str) -> None:
        self.chat, self.prompt, self.brand_name = chat, prompt, brand_name

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
