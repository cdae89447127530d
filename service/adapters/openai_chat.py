"""A chat model behind any OpenAI-compatible endpoint, through LangChain's ``ChatOpenAI``.

Timeouts and retries come from settings; SDK errors become ``UpstreamTimeout`` or ``UpstreamUnavailable``.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from service.errors import ModelOutputInvalid, UpstreamTimeout, UpstreamUnavailable

_ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


class OpenAIChat:
    def __init__(
        self, *, base_url: str, model: str, api_key: str, timeout_s: float, max_retries: int, temperature: float
    ) -> None:
        self.model = model
        self._llm = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=SecretStr(api_key),
            timeout=timeout_s,
            max_retries=max_retries,
            temperature=temperature,
        )

    def complete(self, messages: Sequence[tuple[str, str]]) -> str:
        lc: list[BaseMessage] = [_ROLES[role](content=content) for role, content in messages]
        try:
            reply = self._llm.invoke(lc)
        except openai.APITimeoutError as exc:
            raise UpstreamTimeout("the model did not answer in time") from exc
        except openai.APIError as exc:
            raise UpstreamUnavailable(f"the model call failed: {exc.__class__.__name__}") from exc
        except Exception as exc:  # a malformed response body (no choices, HTML, ...) from a compatible server
            raise ModelOutputInvalid(f"the model's response could not be read: {exc.__class__.__name__}") from exc
        content = reply.content
        if isinstance(content, list):
            content = "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)
        return str(content)
