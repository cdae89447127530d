"""``tenang eval tone``: score texts against the rubric, criterion by criterion.

Each line has ``text`` and, optionally, ``label``, ``complaint``, ``channel`` and ``public``. A text passes
when it passes every named criterion (``all``: the rubric's overall verdict). With a fail label, lines
with that label should fail and all others pass, which gives precision, recall and F1 of failing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.progress import Progress

from service.drafting.context import DraftContext
from service.drafting.pipeline import DraftingPipeline
from service.models import Channel, Complaint

from evals.report import bar_chart, provenance, write_markdown


def load_tone_lines(path: Path, labels: set[str] | None = None) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise ValueError("no text")
        except (json.JSONDecodeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path}:{n}: each line needs a non-empty 'text' ({exc})") from exc
        if labels is None or str(obj.get("label")) in labels:
            out.append(obj)
    if not out:
        raise ValueError(f"{path}: no lines" + (" with those labels" if labels else ""))
    return out


def run_tone(
    pipeline: DraftingPipeline,
    lines: Sequence[dict[str, Any]],
    *,
    criteria: Sequence[str] | None,
    fail_label: str | None,
    channel: Channel,
    public: bool | None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    known = [c.id for c in pipeline.pack.rubric.criteria]
    if criteria:
        unknown = [c for c in criteria if c not in known]
        if unknown:
            raise ValueError(f"unknown criteria {', '.join(unknown)}; the rubric has {', '.join(known)}")
    passed_n = 0
    per_criterion_fail: Counter[str] = Counter()
    tp = fp = fn = tn = 0
    examples: list[tuple[str, str, list[str]]] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("checking", total=len(lines))
        for line in lines:
            ch = Channel(line.get("channel") or channel)
            pub = line.get("public")
            pub = bool(pub) if pub is not None else (public if public is not None else False)
            complaint = (
                Complaint(text=line["complaint"], channel=ch, public=pub) if line.get("complaint") else None
            )
            verdict = pipeline.check_text(line["text"], complaint=complaint, channel=ch, public=pub,
                                          context=DraftContext.model_validate(line.get("context") or {}))  # fmt: skip
            failed = [c.id for c in verdict.criteria if not c.passed]
            per_criterion_fail.update(failed)
            ok = verdict.passed if not criteria else not any(c in failed for c in criteria)
            passed_n += ok
            if fail_label is not None:
                should_fail = str(line.get("label")) == fail_label
                tp += should_fail and not ok
                fp += (not should_fail) and not ok
                fn += should_fail and ok
                tn += (not should_fail) and ok
                if should_fail == ok and len(examples) < 15:
                    examples.append(("missed failure" if should_fail else "false alarm", line["text"][:160], failed))
            progress.advance(task)
    n = len(lines)
    result: dict[str, Any] = {"n": n, "pass_rate": round(passed_n / n, 4)}
    if fail_label is not None:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result |= {"accuracy": round((tp + tn) / n, 4), "precision_fail": round(precision, 4),
                   "recall_fail": round(recall, 4), "f1_fail": round(f1, 4)}  # fmt: skip
    result["_per_criterion_pass"] = {c: round(1 - per_criterion_fail[c] / n, 4) for c in known}
    result["_examples"] = examples
    return result


def print_tone(result: dict[str, Any], echo: Callable[[str], None]) -> None:
    line = f"n={result['n']} pass_rate={result['pass_rate']}"
    if "f1_fail" in result:
        line += (f" accuracy={result['accuracy']} precision_fail={result['precision_fail']} "
                 f"recall_fail={result['recall_fail']} f1_fail={result['f1_fail']}")  # fmt: skip
    echo(line)
    for cid, rate in result["_per_criterion_pass"].items():
        echo(f"  {cid:<22} {rate}")
    for kind, text, failed in result["_examples"][:10]:
        echo(f"  {kind}: {text!r} failed={failed}")


def write_tone_report(report_dir: Path, result: dict[str, Any], *, data: Path, versions: dict[str, str]) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    per = result["_per_criterion_pass"]
    bar_chart(report_dir / "per_criterion.png", list(per), list(per.values()), title="Pass rate per criterion",
              xlabel="pass rate")  # fmt: skip
    summary = [f"- {k}: {v}" for k, v in result.items() if not k.startswith("_")]
    table = ["| criterion | pass rate |", "|---|---|", *[f"| {c} | {r} |" for c, r in per.items()]]
    errors = [f"- {kind}: {text!r} (failed: {', '.join(f) or 'none'})" for kind, text, f in result["_examples"]]
    path = report_dir / "tone.md"
    write_markdown(path, "Tone evaluation", [
        ["## Summary", *summary], ["## Provenance", *provenance(data=[data], versions=versions)],
        ["## Per criterion", *table, "", "![pass rate per criterion](per_criterion.png)"],
        ["## Disagreements (first 15)", *(errors or ["- none"])],
    ])  # fmt: skip
    return path

