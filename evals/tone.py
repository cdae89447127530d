"""``tenang eval tone``: score texts against the rubric, criterion by criterion.

Each line has ``text`` and, optionally, ``label``, ``complaint``, ``channel`` and ``public``. A text passes
when it passes every named criterion (``all``: the rubric's overall verdict). With a fail label, lines
with that label should fail and all others pass, which gives precision, recall and F1 of failing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.progress import Progress

from service.drafting.context import DraftContext
from service.drafting.pipeline import DraftingPipeline
from service.errors import InvalidInput
from service.models import Channel, Complaint
from service.tone.evaluate import ToneCase, check_criteria, evaluate_tone, unknown_fail_criteria
from service.tone.judge import JUDGE_CRITERIA

from evals.report import bar_chart, provenance, write_markdown


CHANNELS = tuple(c.value for c in Channel)


def load_tone_lines(path: Path, labels: set[str] | None = None) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
            raise ValueError(f"{path}:{n}: each line needs a non-empty 'text'")
        fail = obj.get("fail")
        if fail is not None and not (isinstance(fail, list) and all(isinstance(c, str) for c in fail)):
            raise ValueError(f"{path}:{n}: 'fail' must be a list of criterion ids")
        # a missing or empty channel takes --channel's value (run_tone)
        if obj.get("channel") and (not isinstance(obj["channel"], str) or obj["channel"] not in CHANNELS):
            raise ValueError(f"{path}:{n}: 'channel' must be one of {', '.join(CHANNELS)}, not {obj['channel']!r}")
        if obj.get("public") is not None and not isinstance(obj["public"], bool):
            raise ValueError(f"{path}:{n}: 'public' must be true or false")
        sub = obj.get("subjective")
        if sub is not None and not (isinstance(sub, dict) and set(sub) <= set(JUDGE_CRITERIA)
                                    and all(isinstance(v, bool) for v in sub.values())):  # fmt: skip
            raise ValueError(f"{path}:{n}: 'subjective' must map {', '.join(JUDGE_CRITERIA)} to true or false")
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
    judge: bool = False,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    try:
        check_criteria(pipeline, criteria)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from exc
    cases = []
    for line in lines:
        ch = Channel(line.get("channel") or channel)
        pub = line.get("public")
        pub = bool(pub) if pub is not None else (public if public is not None else False)
        complaint = Complaint(text=line["complaint"], channel=ch, public=pub) if line.get("complaint") else None
        cases.append(ToneCase(text=line["text"], channel=ch, public=pub, complaint=complaint,
                              context=DraftContext.model_validate(line.get("context") or {}),
                              label=str(line.get("label")) if line.get("label") is not None else None,
                              expected_fail=line.get("fail"), subjective=line.get("subjective")))  # fmt: skip
    if bad := unknown_fail_criteria(pipeline, cases):
        line = lines[bad[0]]
        raise ValueError(f"line {bad[0] + 1} ({line.get('id', 'no id')}): unknown criteria in 'fail': {', '.join(bad[1])}")
    with Progress(transient=True) as progress:
        task = progress.add_task("checking", total=len(cases))
        evaluation = evaluate_tone(pipeline, cases, criteria=criteria, fail_label=fail_label, judge=judge,
                                   on_case=lambda: progress.advance(task))  # fmt: skip
    examples = []
    for i in evaluation.disagreements()[:15]:
        r = evaluation.results[i]
        examples.append(("missed failure" if r.expected_to_fail else "false alarm", cases[i].text[:160], r.failed))
    result = dict(evaluation.summary)
    result["_per_criterion_pass"] = evaluation.per_criterion_pass_rate
    result["_examples"] = examples
    return result


def print_tone(result: dict[str, Any], echo: Callable[[str], None]) -> None:
    line = f"n={result['n']} pass_rate={result['pass_rate']}"
    if "f1_fail" in result:
        line += (f" accuracy={result['accuracy']} precision_fail={result['precision_fail']} "
                 f"recall_fail={result['recall_fail']} f1_fail={result['f1_fail']}")  # fmt: skip
    echo(line)
    per = result.get("per_criterion")
    for cid, rate in result["_per_criterion_pass"].items():
        extra = ""
        if per:
            m = per[cid]
            extra = (f"  failing: precision {m['precision_fail']:.3f} recall {m['recall_fail']:.3f} "
                     f"f1 {m['f1_fail']:.3f} (labelled {m['support']}, flagged {m['flagged']})")  # fmt: skip
        echo(f"  {cid:<22} {rate}{extra}")
    for kind, text, failed in result["_examples"][:10]:
        echo(f"  {kind}: {text!r} failed={failed}")
    if judge := result.get("judge"):
        echo(f"judge {judge['model']} ({judge['prompt']}): scored {judge['judged']}, errors {judge['errors']}")
        for cid, m in judge["per_criterion"].items():
            echo(f"  {cid:<14} agreement {m['agreement']:.3f} kappa {m['kappa']} on {m['n']} labelled "
                 f"(people pass {m['human_pass_rate']:.3f}, judge passes {m['judge_pass_rate']:.3f})")
        if not judge["per_criterion"]:
            echo("  no line carries 'subjective' labels: no agreement to report")


def write_tone_report(report_dir: Path, result: dict[str, Any], *, data: Path, versions: dict[str, str]) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    per = result["_per_criterion_pass"]
    bar_chart(report_dir / "per_criterion.png", list(per), list(per.values()), title="Pass rate per criterion",
              xlabel="pass rate")  # fmt: skip
    labelled = result.get("per_criterion")
    summary = [f"- {k}: {v}" for k, v in result.items() if not k.startswith("_") and k != "per_criterion"]
    if labelled:
        table = ["| criterion | pass rate | precision of failing | recall of failing | F1 | labelled to fail | flagged |",
                 "|---|---|---|---|---|---|---|",
                 *[f"| {c} | {r} | {labelled[c]['precision_fail']} | {labelled[c]['recall_fail']} | {labelled[c]['f1_fail']} "
                   f"| {labelled[c]['support']} | {labelled[c]['flagged']} |" for c, r in per.items()]]  # fmt: skip
    else:
        table = ["| criterion | pass rate |", "|---|---|", *[f"| {c} | {r} |" for c, r in per.items()]]
    errors = [f"- {kind}: {text!r} (failed: {', '.join(f) or 'none'})" for kind, text, f in result["_examples"]]
    path = report_dir / "tone.md"
    write_markdown(path, "Tone evaluation", [
        ["## Summary", *summary], ["## Provenance", *provenance(data=[data], versions=versions)],
        ["## Per criterion", *table, "", "![pass rate per criterion](per_criterion.png)"],
        ["## Disagreements (first 15)", *(errors or ["- none"])],
    ])  # fmt: skip
    return path

