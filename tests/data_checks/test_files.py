"""Every data file the service or the evals read validates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evals.cases import load_cases
from service.config import PROJECT_ROOT
from service.errors import PackInvalid
from service.knowledge.pack import check_pack
from service.prompting.registry import PromptRegistry, load_prompt

PROMPTS = PROJECT_ROOT / "prompts"


def test_knowledge_pack_has_no_problems() -> None:
    _, problems = check_pack(PROJECT_ROOT / "knowledge")
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("path", sorted(PROMPTS.glob("*/v*.yaml")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_prompt_file_declares_exactly_its_placeholders(path: Path) -> None:
    load_prompt(path)


def test_active_prompts_resolve() -> None:
    registry = PromptRegistry.load(PROMPTS)
    for name in yaml.safe_load((PROMPTS / "active.yaml").read_text(encoding="utf-8")):
        assert name in registry


def test_a_prompt_whose_variables_differ_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "draft_reply" / "v1.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "name: draft_reply\nversion: 1\ndescription: x\ninput_variables: [a]\n"
        "messages:\n  - {role: user, content: 'uses {b}'}\n",
        encoding="utf-8",
    )
    with pytest.raises(PackInvalid, match="placeholders"):
        load_prompt(bad)


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "evals" / "datasets").glob("*.jsonl")), ids=lambda p: p.name)
def test_every_eval_dataset_validates(path: Path, pack) -> None:  # type: ignore[no-untyped-def]
    cases = load_cases(path)
    assert cases
    assert len({c.id for c in cases}) == len(cases)
    for c in cases:
        assert c.expect.issue_type is None or c.expect.issue_type in pack.issue_ids


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "evals" / "datasets" / "tone").glob("*.jsonl")), ids=lambda p: p.name)
def test_every_reply_dataset_validates(path: Path, pack) -> None:  # type: ignore[no-untyped-def]
    from evals.tone import load_tone_lines

    lines = load_tone_lines(path)
    criteria = {c.id for c in pack.rubric.criteria}
    assert len({line["id"] for line in lines}) == len(lines)
    for line in lines:
        assert set(line.get("fail") or ()) <= criteria, line["id"]
        assert line.get("language") in {"en", "id"}, line["id"]
        channel = pack.brand.channels[line["channel"]]
        assert line["public"] == channel.public, line["id"]
