"""``tenang eval drafts``: the full pipeline on complaint cases, in a throw-away store.

Reports the rubric pass rate (overall and per criterion), issue-type accuracy, expectation failures,
how different the variants of one draft are (mean pairwise similarity), and latency (median, p95).
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

from service.config import Settings
from service.drafting.context import DraftContext
from service.knowledge.ingest import ingest
from service.models import Complaint, Draft
from service.services import Services, build_services

from evals.cases import DraftCase, load_cases, taxonomy_cases

WORDS = re.compile(r"\w+", re.UNICODE)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _prf(c: Counter[str]) -> dict[str, float | int]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": c["tp"] + c["fn"]}


def jaccard(a: str, b: str) -> float:
    sa, sb = set(WORDS.findall(a.lower())), set(WORDS.findall(b.lower()))
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def hermetic_services(settings: Settings, workdir: Path, *, ingest_pack: bool = True) -> Services:
    """Services on a fresh SQLite file and Chroma folder under workdir, with the pack ingested."""
    s = settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": f"sqlite:///{workdir}/eval.db"}),
            "chroma": settings.chroma.model_copy(update={"path": workdir / "chroma", "url": None}),
        }
    )
    services = build_services(s)
    if ingest_pack:
        assert services.index is not None
        ingest(services.pack, index=services.index, embedder=services.embedder)
    return services


def expectation_failures(case: DraftCase, draft: Draft) -> list[str]:
    out = []
    if case.expect.issue_type and draft.classification.issue_type != case.expect.issue_type:
        out.append(f"issue_type {draft.classification.issue_type} != {case.expect.issue_type}")
    for v in draft.variants:
        low = v.text.lower()
        for banned in case.expect.must_not_contain:
            if banned.lower() in low:
                out.append(f"{v.id} contains {banned!r}")
        if case.expect.must_contain_any and not any(
            re.search(rf"(?<!\w){re.escape(w.lower())}", low) for w in case.expect.must_contain_any
        ):
            out.append(f"{v.id} contains none of {case.expect.must_contain_any}")
    return out


def evaluate(services: Services, cases: list[DraftCase], *, echo: Any = print) -> dict[str, Any]:
    latencies: list[float] = []
    variant_pass, variants_total, revised = 0, 0, 0
    criterion_fail: Counter[str] = Counter()
    issue_hits, issue_total = 0, 0
    unclear_hits, unclear_total = 0, 0  # issue-type guesses the classifier marked unclear, and how many were right
    exp_fail: list[tuple[str, str]] = []
    sims_j: list[float] = []
    sims_e: list[float] = []
    failing: list[tuple[str, str, list[str]]] = []
    severity_hits = severity_total = 0
    signal_counts: dict[str, Counter[str]] = {}
    # warm-up: the first call pays for lazy initialisation
    services.pipeline.draft(Complaint(text="warm up", channel="chat", public=False), DraftContext())
    for i, case in enumerate(cases, start=1):
        complaint = Complaint(
            text=case.text, channel=case.channel, public=case.public, author=case.author, language=case.language
        )
        ctx = DraftContext.model_validate(case.context)
        t0 = time.perf_counter()
        draft = services.pipeline.draft(complaint, ctx)
        latencies.append((time.perf_counter() - t0) * 1000)
        for v in draft.variants:
            variants_total += 1
            variant_pass += v.rubric.passed
            revised += bool(v.revisions)
            fails = [c.id for c in v.rubric.criteria if not c.passed]
            criterion_fail.update(fails)
            if not v.rubric.passed:
                failing.append((case.id, v.text, fails))
        if case.expect.issue_type:
            issue_total += 1
            issue_hits += draft.classification.issue_type == case.expect.issue_type
            if draft.classification.unclear:
                unclear_total += 1
                unclear_hits += draft.classification.issue_type == case.expect.issue_type
        if case.expect.severity:
            severity_total += 1
            severity_hits += draft.classification.severity == case.expect.severity
        if case.expect.signals is not None:
            got, want = set(draft.classification.signals), set(case.expect.signals)
            for sig in got | want | {s.id for s in services.pack.taxonomy.signals}:
                c = signal_counts.setdefault(sig, Counter())
                c["tp"] += sig in got and sig in want
                c["fp"] += sig in got and sig not in want
                c["fn"] += sig not in got and sig in want
        exp_fail.extend((case.id, f) for f in expectation_failures(case, draft) if not f.startswith("issue_type"))
        texts = [v.text for v in draft.variants]
        if len(texts) > 1:
            vecs = services.embedder.embed(texts)
            for a, b in combinations(range(len(texts)), 2):
                sims_j.append(jaccard(texts[a], texts[b]))
                sims_e.append(sum(x * y for x, y in zip(vecs[a], vecs[b], strict=True)))
        if i % 25 == 0:
            echo(f"  {i}/{len(cases)} cases")
    criteria = [c.id for c in services.pack.rubric.criteria]
    return {
        "n": len(cases),
        "variants": variants_total,
        "rubric_pass_rate": round(variant_pass / variants_total, 4) if variants_total else None,
        "revised_variants": revised,
        "per_criterion_pass_rate": {
            c: round(1 - criterion_fail[c] / variants_total, 4) if variants_total else None for c in criteria
        },
        "issue_type_accuracy": round(issue_hits / issue_total, 4) if issue_total else None,
        "issue_type_unclear": unclear_total,
        "issue_type_accuracy_unclear": round(unclear_hits / unclear_total, 4) if unclear_total else None,
        "issue_type_accuracy_clear": round((issue_hits - unclear_hits) / (issue_total - unclear_total), 4)
        if issue_total > unclear_total else None,
        "severity_accuracy": round(severity_hits / severity_total, 4) if severity_total else None,
        "signals": {sig: _prf(c) for sig, c in sorted(signal_counts.items())} or None,
        "expectation_failures": len(exp_fail),
        "variant_similarity_jaccard_mean": round(statistics.fmean(sims_j), 3) if sims_j else None,
        "variant_similarity_embedding_mean": round(statistics.fmean(sims_e), 3) if sims_e else None,
        "ms_p50": round(percentile(latencies, 0.5), 1),
        "ms_p95": round(percentile(latencies, 0.95), 1),
        "_failing": failing,
        "_expectation_failures": exp_fail,
    }


def run_drafts(
    settings: Settings, *, data: Path | None, report_dir: Path | None, taxonomy: bool = False, echo: Any = print,
    versions: dict[str, str] | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tenang-eval-") as tmp:
        services = hermetic_services(settings, Path(tmp))
        cases = taxonomy_cases(services.pack) if taxonomy else load_cases(data)  # type: ignore[arg-type]
        source = "the pack's taxonomy examples" if taxonomy else str(data)
        echo(f"eval drafts: {len(cases)} cases from {source}")
        result = evaluate(services, cases, echo=echo)
    echo(f"rubric pass rate (all variants): {result['rubric_pass_rate']} of {result['variants']} variants "
         f"({result['revised_variants']} revised before passing or giving up)")
    for cid, rate in result["per_criterion_pass_rate"].items():
        echo(f"  {cid:<22} {rate}")
    echo(f"issue-type accuracy: {result['issue_type_accuracy']} ({result['issue_type_unclear']} guesses unclear, "
         f"right {result['issue_type_accuracy_unclear']}; the others right {result['issue_type_accuracy_clear']})")
    if result["severity_accuracy"] is not None:
        echo(f"severity accuracy: {result['severity_accuracy']}")
    for sig, m in (result["signals"] or {}).items():
        echo(f"  signal {sig:<22} precision {m['precision']:.3f} recall {m['recall']:.3f} f1 {m['f1']:.3f} (n {m['support']})")
    echo(f"expectation failures: {result['expectation_failures']}")
    for cid, msg in result["_expectation_failures"][:20]:
        echo(f"  {cid}: {msg}")
    echo(
        "variant similarity (mean pairwise): "
        f"word Jaccard {result['variant_similarity_jaccard_mean']}, embedding cosine {result['variant_similarity_embedding_mean']}"
    )
    echo(f"latency per draft: median {result['ms_p50']} ms, p95 {result['ms_p95']} ms")
    for cid, text, fails in result["_failing"][:20]:
        echo(f"  FAIL {cid} {fails}: {text[:200]!r}")
    if report_dir:
        write_report(report_dir, result, source=source, data=data, versions=versions)
        echo(f"report written to {report_dir}/drafts.md")
    return {k: v for k, v in result.items() if not k.startswith("_")}


def write_report(report_dir: Path, result: dict[str, Any], *, source: str, data: Path | None,
                 versions: dict[str, str] | None = None) -> None:  # fmt: skip
    from evals.report import bar_chart, provenance, write_markdown

    report_dir.mkdir(parents=True, exist_ok=True)
    per = result["per_criterion_pass_rate"]
    bar_chart(report_dir / "per_criterion.png", list(per), list(per.values()),
              title="Variants passing each criterion", xlabel="pass rate")  # fmt: skip
    summary = [
        f"- cases: {result['n']} ({source})", f"- rubric pass rate: {result['rubric_pass_rate']} of {result['variants']} variants",
        f"- issue-type accuracy: {result['issue_type_accuracy']}",
        f"- expectation failures: {result['expectation_failures']}",
        f"- variant similarity (mean pairwise): word Jaccard {result['variant_similarity_jaccard_mean']}, "
        f"embedding cosine {result['variant_similarity_embedding_mean']}",
        f"- latency per draft: median {result['ms_p50']} ms, p95 {result['ms_p95']} ms",
    ]  # fmt: skip
    failing = [f"- {cid} {fails}: {text[:200]!r}" for cid, text, fails in result["_failing"][:30]] or ["- none"]
    expectations = [f"- {cid}: {msg}" for cid, msg in result["_expectation_failures"][:30]] or ["- none"]
    write_markdown(report_dir / "drafts.md", "Draft evaluation", [
        ["## Summary", *summary], ["## Provenance", *provenance(data=[data], versions=versions or {})],
        ["## Per criterion", "| criterion | pass rate |", "|---|---|", *[f"| {c} | {r} |" for c, r in per.items()],
         "", "![per criterion](per_criterion.png)"],
        ["## Variants that failed the rubric", *failing], ["## Expectation failures", *expectations],
    ])  # fmt: skip
