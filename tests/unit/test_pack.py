from __future__ import annotations

import shutil
from pathlib import Path

from service.config import PROJECT_ROOT
from service.knowledge.pack import check_pack
from service.knowledge.scaffold import scaffold


def test_the_sample_pack_is_valid_and_rich() -> None:
    pack, problems = check_pack(PROJECT_ROOT / "knowledge")
    assert problems == [] and pack is not None
    assert len(pack.taxonomy.issue_types) >= 12
    for t in pack.taxonomy.issue_types:
        assert len(t.examples) >= 12 and {e.language for e in t.examples} == {"en", "id"}
    assert set(pack.playbooks) == set(pack.issue_ids)
    assert len(pack.policies) >= 10 and len(pack.past_replies) >= 80
    assert {r.language for r in pack.past_replies} == {"en", "id"}
    assert len({r.channel for r in pack.past_replies}) >= 4


def test_problems_name_file_line_and_field(tmp_path: Path) -> None:
    root = tmp_path / "pack"
    shutil.copytree(PROJECT_ROOT / "knowledge", root)
    pb = root / "playbooks" / "praise.yaml"
    lines = pb.read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("approval_tier:"))
    lines[n] = "approval_tier: {low: 1, medium: 3, high: 1, critical: 2}"
    pb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "past_replies" / "broken.jsonl").write_text('{"id": "x"\n', encoding="utf-8")

    pack, problems = check_pack(root)
    assert pack is None
    where = {(p.file, p.line, p.field) for p in problems}
    assert ("playbooks/praise.yaml", n + 1, "approval_tier.medium") in where
    assert any(p.file == "past_replies/broken.jsonl" and p.line == 1 for p in problems)


def test_a_missing_playbook_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "pack"
    shutil.copytree(PROJECT_ROOT / "knowledge", root)
    (root / "playbooks" / "praise.yaml").unlink()
    _, problems = check_pack(root)
    assert any("praise" in p.message and "no playbook" in p.message for p in problems)


def test_scaffolded_pack_passes_its_own_check(tmp_path: Path) -> None:
    written = scaffold(tmp_path / "new")
    assert any(p.name == "taxonomy.yaml" for p in written)
    pack, problems = check_pack(tmp_path / "new")
    assert problems == [] and pack is not None
    assert "#" in (tmp_path / "new" / "taxonomy.yaml").read_text(encoding="utf-8")  # it explains itself
