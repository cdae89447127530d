"""Load and validate a knowledge pack (see knowledge/README.md for the file formats).

``check_pack(dir)`` returns every problem with its file, line and field; ``load_pack(dir)`` returns a
``Pack`` or raises ``PackInvalid`` listing the problems. The sample pack is loaded the same way as any
brand's own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from service.errors import PackInvalid
from service.knowledge.yamlpos import Loc, line_of, load_with_lines, read_text
from service.models import Cause, Channel, Language, Severity

LANGS = ("en", "id")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
BLOCK_KEYS = ("problem", "acknowledge", "apology", "empathy", "action", "ask_private", "ask_details", "close")
PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
ALLOWED_PLACEHOLDERS = {"problem", "order", "you"}


def _compiled(patterns: dict[Language, list[str]]) -> dict[Language, list[str]]:
    """Check that every pattern is a valid regular expression; say which one is not."""
    for lang, pats in patterns.items():
        for p in pats:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"{lang}: pattern {p!r} is not a valid regular expression: {exc}") from exc
    return patterns


Patterns = Annotated[dict[Language, list[str]], AfterValidator(_compiled)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- brand


class ChannelRule(_Strict):
    max_chars: int = Field(gt=20)
    public: bool


class SignOff(_Strict):
    name: str
    team: str


class Brand(_Strict):
    name: str
    handle: str
    timezone: str = "UTC"
    contacts: dict[str, str] = Field(default_factory=dict)
    sign_off: dict[Language, SignOff]
    channels: dict[Channel, ChannelRule]

    @model_validator(mode="after")
    def _all_channels(self) -> Brand:
        missing = [c.value for c in Channel if c not in self.channels]
        if missing:
            raise ValueError(f"channels is missing {', '.join(missing)}")
        return self


# ---------------------------------------------------------------- taxonomy


class Example(_Strict):
    text: str = Field(min_length=3)
    language: Language


class IssueType(_Strict):
    id: str
    label: dict[Language, str]
    description: str
    is_complaint: bool = True
    default_severity: Severity
    default_cause: Cause
    examples: list[Example] = Field(min_length=4)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError("must be lower_snake (a-z, 0-9, _)")
        return v


class SeverityLevel(_Strict):
    id: Severity
    description: str
    response_minutes: int = Field(gt=0)


class Signal(_Strict):
    id: str
    description: str
    min_severity: Severity
    patterns: Patterns



class Taxonomy(_Strict):
    version: int
    severity_levels: list[SeverityLevel]
    issue_types: list[IssueType] = Field(min_length=2)
    signals: list[Signal] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Taxonomy:
        ids = [t.id for t in self.issue_types]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate issue type ids: {', '.join(sorted(dupes))}")
        if {s.id for s in self.severity_levels} != set(Severity):
            raise ValueError("severity_levels must define low, medium, high and critical")
        return self

    def issue(self, issue_id: str) -> IssueType:
        return next(t for t in self.issue_types if t.id == issue_id)

    def minutes(self, severity: Severity) -> int:
        return next(s.response_minutes for s in self.severity_levels if s.id == severity)


# ---------------------------------------------------------------- rubric


class Criterion(_Strict):
    id: str
    description: str
    weight: float = Field(ge=0)
    blocking: bool
    suggestion: str
    lexicon: Patterns = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)



REQUIRED_CRITERIA = (
    "calm", "no_hostility", "courteous", "no_sarcasm", "no_blame", "no_public_argument",
    "acknowledges_problem", "apology_when_at_fault", "next_step", "private_channel",
    "no_overpromise", "no_pii", "channel_fit", "language_match",
)  # fmt: skip


class Rubric(_Strict):
    name: str = "tone"
    version: int
    pass_threshold: float = Field(ge=0, le=1)
    criteria: list[Criterion]

    @model_validator(mode="after")
    def _required(self) -> Rubric:
        have = {c.id for c in self.criteria}
        missing = [c for c in REQUIRED_CRITERIA if c not in have]
        if missing:
            raise ValueError(f"criteria missing: {', '.join(missing)}")
        unknown = have - set(REQUIRED_CRITERIA)
        if unknown:
            raise ValueError(f"unknown criteria (no check implements them): {', '.join(sorted(unknown))}")
        return self

    def criterion(self, cid: str) -> Criterion:
        return next(c for c in self.criteria if c.id == cid)


# ---------------------------------------------------------------- playbooks


class EscalationRule(_Strict):
    when: str
    to: str


class ReplyBlocks(_Strict):
    problem: list[str] = Field(min_length=1)
    problem_general: list[str] = Field(default_factory=list)  # safe when no specific phrase fits
    acknowledge: list[str] = Field(min_length=1)
    apology: list[str] = Field(min_length=1)
    empathy: list[str] = Field(min_length=1)
    action: list[str] = Field(min_length=1)
    ask_private: list[str] = Field(min_length=1)
    ask_details: list[str] = Field(min_length=1)
    close: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _placeholders(self) -> ReplyBlocks:
        for key in (*BLOCK_KEYS, "problem_general"):
            for i, text in enumerate(getattr(self, key)):
                bad = set(PLACEHOLDER_RE.findall(text)) - ALLOWED_PLACEHOLDERS
                if bad:
                    raise ValueError(
                        f"{key}[{i}] uses unknown placeholder(s) {', '.join(sorted(bad))}; "
                        f"allowed: {', '.join(sorted(ALLOWED_PLACEHOLDERS))}"
                    )
        return self


class CrisisRule(_Strict):
    """How a draft linked to an open incident of this issue type is handled (overrides crisis.yaml)."""

    approvals: Literal[1, 2]
    deadline_minutes: int = Field(gt=0)


class Playbook(_Strict):
    issue_type: str
    version: int
    owner: str
    steps: list[str] = Field(min_length=1)
    escalation: list[EscalationRule] = Field(default_factory=list)
    approval_tier: dict[Severity, Literal[1, 2]]
    crisis_mode: CrisisRule | None = None
    holding_statement: dict[Language, str]
    reply: dict[Language, ReplyBlocks]

    @model_validator(mode="after")
    def _langs(self) -> Playbook:
        for lang in Language:
            if lang not in self.reply:
                raise ValueError(f"reply has no '{lang.value}' blocks")
        return self


# ---------------------------------------------------------------- policies and past replies


class Policy(_Strict):
    id: str
    title: str
    issue_types: list[str] = Field(min_length=1)
    effective_date: date
    languages: list[Language]
    facts: dict[Language, list[str]] = Field(default_factory=dict)
    body: str = ""
    path: str = ""


class PastReply(_Strict):
    id: str
    issue_type: str
    language: Language
    channel: Channel
    public: bool
    complaint: str = Field(min_length=3)
    reply: str = Field(min_length=3)
    approved_at: datetime


# ---------------------------------------------------------------- the pack


@dataclass
class Pack:
    root: Path
    brand: Brand
    taxonomy: Taxonomy
    rubric: Rubric
    playbooks: dict[str, Playbook]
    policies: list[Policy]
    past_replies: list[PastReply]

    @property
    def issue_ids(self) -> list[str]:
        return [t.id for t in self.taxonomy.issue_types]

    def all_facts(self, language: Language | None = None) -> list[str]:
        langs = [language] if language else list(Language)
        return [f for p in self.policies for lang in langs for f in p.facts.get(lang, [])]


@dataclass
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def add(self, path: Path, line: int | None, field: str, message: str) -> None:
        self.problems.append(Problem(self.rel(path), line, field, message))

    def validate(
        self, model: type[BaseModel], data: Any, path: Path, lines: dict[Loc, int], prefix: Loc = ()
    ) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = (*prefix, *err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                self.add(path, line_of(lines, loc), ".".join(str(p) for p in loc), msg)
            return None

    def yaml(self, path: Path) -> tuple[Any, dict[Loc, int]]:
        if not path.exists():
            self.add(path, None, "", "file is missing")
            return None, {}
        try:
            data, lines = load_with_lines(read_text(path))
        except Exception as exc:  # yaml.YAMLError and decoding errors: report and go on
            mark = getattr(exc, "problem_mark", None)
            self.add(path, mark.line + 1 if mark else None, "", f"not valid YAML: {exc}")
            return None, {}
        if not isinstance(data, dict):
            self.add(path, 1, "", "expected a mapping at the top level")
            return None, {}
        return data, lines


FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)


def _load_policy(c: _Collector, path: Path) -> Policy | None:
    text = read_text(path)
    m = FRONT_MATTER_RE.match(text)
    if not m:
        c.add(path, 1, "", "must start with YAML front matter between '---' lines")
        return None
    try:
        meta, lines = load_with_lines(m.group(1), line_offset=1)
    except Exception as exc:
        c.add(path, None, "", f"front matter is not valid YAML: {exc}")
        return None
    if not isinstance(meta, dict):
        c.add(path, 1, "", "front matter must be a mapping")
        return None
    meta = {**meta, "body": m.group(2).strip(), "path": c.rel(path)}
    policy = c.validate(Policy, meta, path, lines)
    if policy and policy.id != path.stem:
        c.add(path, line_of(lines, ("id",)), "id", f"must equal the file name ({path.stem!r})")
    if policy and not policy.body:
        c.add(path, None, "body", "the policy has no text after its front matter")
    return policy


def _load_replies(c: _Collector, path: Path) -> list[PastReply]:
    out: list[PastReply] = []
    for n, raw in enumerate(read_text(path).splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            c.add(path, n, "", f"not valid JSON: {exc.msg}")
            continue
        reply = c.validate(PastReply, data, path, {(): n})
        if reply:
            out.append(reply)
    return out


def check_pack(root: Path) -> tuple[Pack | None, list[Problem]]:
    """Load the pack at root; return it (None when unusable) with every problem found."""
    root = Path(root)
    c = _Collector(root)
    if not root.is_dir():
        c.add(root, None, "", "the knowledge pack folder does not exist")
        return None, c.problems

    def model_of(name: str, model: type[BaseModel]) -> Any:
        data, lines = c.yaml(root / name)
        return c.validate(model, data, root / name, lines) if data is not None else None

    brand = model_of("brand.yaml", Brand)
    taxonomy = model_of("taxonomy.yaml", Taxonomy)
    rubric = model_of("rubric.yaml", Rubric)
    issue_ids = {t.id for t in taxonomy.issue_types} if taxonomy else set()

    playbooks: dict[str, Playbook] = {}
    pb_dir = root / "playbooks"
    for path in sorted(pb_dir.glob("*.yaml")):
        data, lines = c.yaml(path)
        pb = c.validate(Playbook, data, path, lines) if data is not None else None
        if pb is None:
            continue
        if pb.issue_type != path.stem:
            c.add(path, line_of(lines, ("issue_type",)), "issue_type", f"must equal the file name ({path.stem!r})")
        elif taxonomy and pb.issue_type not in issue_ids:
            c.add(path, line_of(lines, ("issue_type",)), "issue_type", "is not an issue type of taxonomy.yaml")
        playbooks[pb.issue_type] = pb
    for missing in sorted(issue_ids - set(playbooks)):
        c.add(pb_dir / f"{missing}.yaml", None, "", f"issue type {missing!r} has no playbook")

    policies = [p for path in sorted((root / "policies").glob("*.md")) if (p := _load_policy(c, path))]
    if not policies:
        c.add(root / "policies", None, "", "no policy documents (policies/*.md)")
    for p in policies:
        for it in p.issue_types:
            if taxonomy and it not in issue_ids:
                c.add(root / p.path, None, "issue_types", f"unknown issue type {it!r}")

    replies: list[PastReply] = []
    for path in sorted((root / "past_replies").glob("*.jsonl")):
        for r in _load_replies(c, path):
            if taxonomy and r.issue_type not in issue_ids:
                c.add(path, None, "issue_type", f"{r.id}: unknown issue type {r.issue_type!r}")
            replies.append(r)
    seen: set[str] = set()
    for r in replies:
        if r.id in seen:
            c.add(root / "past_replies", None, "id", f"duplicate past reply id {r.id!r}")
        seen.add(r.id)

    if brand is None or taxonomy is None or rubric is None or c.problems:
        return None, c.problems
    return Pack(root, brand, taxonomy, rubric, playbooks, policies, replies), c.problems


def load_pack(root: Path) -> Pack:
    pack, problems = check_pack(root)
    if pack is None:
        listed = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise PackInvalid(f"knowledge pack {root} is invalid: {listed}{more}")
    return pack
