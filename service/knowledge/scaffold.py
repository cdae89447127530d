"""``tenang pack init``: write a new, commented knowledge pack from the template shipped with Tenang."""

from __future__ import annotations

import shutil
from pathlib import Path

from service.config import PROJECT_ROOT

TEMPLATE = Path(__file__).resolve().parent / "template"
SAMPLE_RUBRIC = PROJECT_ROOT / "knowledge" / "rubric.yaml"


def scaffold(target: Path, *, rubric: Path = SAMPLE_RUBRIC) -> list[Path]:
    """Copy the template pack into target (created if missing), with the sample pack's rubric as the
    starting rubric (commented, one source of truth); return the files written."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(rubric, target / "rubric.yaml")
    written = [target / "rubric.yaml"]
    for src in sorted(TEMPLATE.rglob("*")):
        if src.is_file() and "__pycache__" not in src.parts:
            dst = target / src.relative_to(TEMPLATE)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            written.append(dst)
    return written
