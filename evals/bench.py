"""``tenang bench``: time the drafting pipeline once warm, on the embedded defaults.

Runs in a throw-away SQLite file and Chroma folder (the pack ingested first), drafts each complaint of
the data file in turn, and prints the median and 95th percentile over repeated runs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from service.config import PROJECT_ROOT, Settings
from service.drafting.context import DraftContext
from service.models import Complaint

from evals.cases import load_cases
from evals.drafts import hermetic_services, percentile

DEFAULT_DATA = PROJECT_ROOT / "evals" / "datasets" / "complaints.dev.v1.jsonl"


def run_bench(settings: Settings, *, runs: int, data: Path | None) -> dict[str, float]:
    cases = load_cases(data or DEFAULT_DATA)
    with tempfile.TemporaryDirectory(prefix="tenang-bench-") as tmp:
        services = hermetic_services(settings, Path(tmp))
        pipeline = services.pipeline
        items = [
            (Complaint(text=c.text, channel=c.channel, public=c.public, author=c.author), DraftContext.model_validate(c.context))
            for c in cases
        ]
        for complaint, ctx in items[:5]:  # warm-up
            pipeline.draft(complaint, ctx)
        timings = []
        for i in range(runs):
            complaint, ctx = items[i % len(items)]
            t0 = time.perf_counter()
            pipeline.draft(complaint, ctx)
            timings.append((time.perf_counter() - t0) * 1000)
    out = {
        "runs": runs,
        "ms_p50": round(percentile(timings, 0.5), 1),
        "ms_p95": round(percentile(timings, 0.95), 1),
        "ms_max": round(max(timings), 1),
    }
    print(f"draft latency over {runs} drafts (3 variants, embedded defaults, warm): "
          f"median {out['ms_p50']} ms, p95 {out['ms_p95']} ms, max {out['ms_max']} ms")  # fmt: skip
    return out
