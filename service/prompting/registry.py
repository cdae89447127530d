"""The prompt registry: ``prompts/<name>/v<N>.yaml`` plus ``prompts/active.yaml``.

A prompt file declares its ``input_variables``; they must equal the placeholders its messages use
(f-string style, as LangChain's default templates; literal braces are doubled). Files are never edited
once active: a change is a new version. Every draft records the refs of the prompts that made it.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.errors import PackInvalid
from service.models import PromptRef


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


class PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: int = Field(ge=1)
    description: str
    input_variables: list[str]
    messages: list[Message] = Field(min_length=1)
    changelog: str = ""


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@dataclass(frozen=True)
class Prompt:
    file: PromptFile
    sha256: str

    @property
    def ref(self) -> PromptRef:
        return PromptRef(name=self.file.name, version=self.file.version, sha256=self.sha256)

    @property
    def ref_str(self) -> str:
        return f"v{self.file.version}:{self.sha256[:12]}"

    def render(self, **variables: str) -> list[tuple[str, str]]:
        missing = set(self.file.input_variables) - set(variables)
        if missing:
            raise ValueError(f"prompt {self.file.name} needs {', '.join(sorted(missing))}")
        return [(m.role, m.content.format(**variables)) for m in self.file.messages]


def load_prompt(path: Path) -> Prompt:
    raw = path.read_bytes()
    try:
        data = PromptFile.model_validate(yaml.safe_load(raw))
    except (ValidationError, yaml.YAMLError) as exc:
        raise PackInvalid(f"{path}: {exc}") from exc
    if path.parent.name != data.name or path.stem != f"v{data.version}":
        raise PackInvalid(f"{path}: name/version must match the path (<name>/v<version>.yaml)")
    used = set().union(*(placeholders(m.content) for m in data.messages))
    if used != set(data.input_variables):
        raise PackInvalid(
            f"{path}: input_variables {sorted(data.input_variables)} differ from the placeholders used "
            f"{sorted(used)}"
        )
    return Prompt(data, hashlib.sha256(raw).hexdigest())


class PromptRegistry:
    def __init__(self, prompts: dict[str, Prompt]) -> None:
        self._prompts = prompts

    @classmethod
    def load(cls, root: Path) -> PromptRegistry:
        active_path = root / "active.yaml"
        if not active_path.exists():
            raise PackInvalid(f"{active_path} is missing")
        active = yaml.safe_load(active_path.read_text(encoding="utf-8")) or {}
        prompts: dict[str, Prompt] = {}
        for name, version in active.items():
            path = root / name / f"v{version}.yaml"
            if not path.exists():
                raise PackInvalid(f"{active_path}: {name} v{version} points to a missing file {path}")
            prompts[name] = load_prompt(path)
        return cls(prompts)

    def get(self, name: str) -> Prompt:
        return self._prompts[name]

    def __contains__(self, name: str) -> bool:
        return name in self._prompts
