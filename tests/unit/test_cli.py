from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from service.config import PROJECT_ROOT

runner = CliRunner()


def test_pack_check_reports_ok_for_the_sample_pack() -> None:
    r = runner.invoke(app, ["pack", "check", str(PROJECT_ROOT / "knowledge")])
    assert r.exit_code == 0 and "ok (12 issue types" in r.output


def test_pack_check_names_file_and_line_of_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "pack"
    shutil.copytree(PROJECT_ROOT / "knowledge", root)
    (root / "brand.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    r = runner.invoke(app, ["pack", "check", str(root)])
    assert r.exit_code == 1
    assert "brand.yaml:" in r.output and "not valid YAML" in r.output


def test_pack_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("keep me", encoding="utf-8")
    r = runner.invoke(app, ["pack", "init", str(tmp_path)])
    assert r.exit_code == 1 and "not empty" in r.output
    assert (tmp_path / "x.txt").read_text(encoding="utf-8") == "keep me"


def test_draft_with_bad_input_is_a_one_line_error() -> None:
    r = runner.invoke(app, ["draft", "   ", "--channel", "twitter"])
    assert r.exit_code == 1
    assert r.output.strip().count("\n") == 0 and r.output.startswith("error: complaint.text")
    r = runner.invoke(app, ["draft", "late order", "--channel", "pigeon"])
    assert r.exit_code == 1 and "complaint.channel" in r.output
