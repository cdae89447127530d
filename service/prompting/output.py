"""Reading a model's JSON answer: code fences and prose around the object are tolerated, anything
else is ``ModelOutputInvalid`` (the callers fall back or record the error)."""

from __future__ import annotations

import json
import re
from typing import Any

from service.errors import ModelOutputInvalid

FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def json_object(raw: str, what: str) -> Any:
    """The JSON object in a model's answer (``what`` names the answer in the error)."""
    cleaned = FENCE_RE.sub("", raw.strip())
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start == -1 or end <= start:
        raise ModelOutputInvalid(f"{what} contains no JSON object")
    try:
        return json.loads(cleaned[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ModelOutputInvalid(f"{what} is not the agreed JSON: {str(exc)[:200]}") from exc
