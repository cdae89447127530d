"""Set the rubric's numeric thresholds from data, and print the figures that justify them.

The learned signals' thresholds are set by their training scripts. This script sets the rest:
- `pass_threshold`, the weighted score a reply needs besides passing every blocking criterion;
- the `calm` criterion's `max_exclamations` and `max_caps_words`.

It reads evals/datasets/tone/replies.dev.v1.jsonl (our labelled replies; tuning on dev is allowed,
holdout stays for checking), the real agents' replies of brand-replies-twitter (read from --data,
never copied) and, for pass_threshold, the sincere warm replies of evals/datasets/tone/warm.en.v1 (the
warm set that chooses between configurations; warm.en.v2 stays unseen). Each value is the one with the
best F1 of failing on dev among those that keep at least 99.5% of the known-good replies passing; ties go
to the value already in the rubric. Copy the printed
values and figures into knowledge/rubric.yaml.

    .venv/bin/python training/calibrate_rubric.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from evals.drafts import hermetic_services
from evals.tone import load_tone_lines
from service.config import Settings
from service.drafting.context import DraftContext
from service.models import Channel, Complaint
from service.tone.checks import SHOUT_RE

MIN_AGENT_PASS = 0.995  # of the known-good replies


def sincere_warm_lines() -> list[dict]:  # type: ignore[type-arg]
    """The sincere replies to praise and banter of evals/datasets/tone/warm.en.v1 (the warm set that chooses
    between configurations; warm.en.v2 stays unseen): known-good replies that agents' plain help does not
    cover. calibrate_sentence_thresholds.py keeps them passing too."""
    return [line for line in load_tone_lines(Path("evals/datasets/tone/warm.en.v1.jsonl")) if not line.get("fail")]


def f1(pred: list[bool], want: list[bool]) -> float:
    tp = sum(p and w for p, w in zip(pred, want, strict=True))
    fp = sum(p and not w for p, w in zip(pred, want, strict=True))
    fn = sum(w and not p for p, w in zip(pred, want, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def choose(name: str, grid: list[float], current: float, dev_fail, dev_want: list[bool], agents_fail) -> None:  # type: ignore[no-untyped-def]
    """Print each candidate's figures and the chosen one."""
    rows = []
    for value in grid:
        pred = dev_fail(value)
        flags = agents_fail(value)
        agent_pass = 1 - sum(flags) / max(1, len(flags))
        rows.append((value, round(f1(pred, dev_want), 4), round(agent_pass, 4)))
        print(f"  {name}={value}: dev F1 of failing {rows[-1][1]}, known-good replies passing {rows[-1][2]}")
    allowed = [r for r in rows if r[2] >= MIN_AGENT_PASS] or rows
    best = max(allowed, key=lambda r: (r[1], r[0] == current))
    print(f"{name}: choose {best[0]} (dev F1 {best[1]}, known-good replies passing {best[2]}); the rubric has {current}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    lines = load_tone_lines(Path("evals/datasets/tone/replies.dev.v1.jsonl"))
    agents_file = args.data / "brand-replies-twitter/dev.jsonl"
    agents = [json.loads(x)["text"] for x in agents_file.read_text(encoding="utf-8").splitlines() if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        sv = hermetic_services(Settings(), Path(tmp), ingest_pack=False)
        rubric = sv.pack.rubric

        def verdict(line: dict, channel: Channel | None = None, public: bool | None = None):  # type: ignore[no-untyped-def,type-arg]
            ch = channel or Channel(line.get("channel") or "chat")
            pub = public if public is not None else bool(line.get("public"))
            complaint = Complaint(text=line["complaint"], channel=ch, public=pub) if line.get("complaint") else None
            return sv.pipeline.check_text(line["text"], complaint=complaint, channel=ch, public=pub,
                                          context=DraftContext.model_validate(line.get("context") or {}))  # fmt: skip

        dev = [verdict(line) for line in lines]
        brand = [verdict({"text": t}, Channel.twitter, True) for t in agents]
        # Sincere replies to praise and banter need no next step nor an apology: a score cut that the
        # agents' replies (plain help) never meet could still fail them.
        warm = [verdict(line) for line in sincere_warm_lines()]

    # pass_threshold: a reply fails when a blocking criterion fails or its weighted score is below it
    want_any = [bool(line.get("fail")) for line in lines]
    blocking_dev = [not all(c.passed for c in v.criteria if c.blocking) for v in dev]
    good = brand + warm
    blocking_good = [not all(c.passed for c in v.criteria if c.blocking) for v in good]
    choose("pass_threshold", [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95], rubric.pass_threshold,
           lambda t: [b or v.score < t for b, v in zip(blocking_dev, dev, strict=True)], want_any,
           # known-good replies that pass every blocking check (many agents' replies are long, or answer in
           # public without a DM, which the blocking checks judge): how many would the score alone fail?
           lambda t: [v.score < t for b, v in zip(blocking_good, good, strict=True) if not b])  # fmt: skip

    calm = next(c for c in rubric.criteria if c.id == "calm")
    allow = {a.upper() for a in calm.params.get("caps_allow", [])}
    want_calm = [("calm" in (line.get("fail") or [])) for line in lines]

    def bangs(texts: list[str], limit: float) -> list[bool]:
        return [t.count("!") > limit for t in texts]

    def shouts(texts: list[str], limit: float) -> list[bool]:
        return [sum(m.group(0) not in allow for m in SHOUT_RE.finditer(t)) > limit for t in texts]

    dev_texts = [line["text"] for line in lines]
    choose("max_exclamations", [0, 1, 2, 3, 4], calm.params["max_exclamations"],
           lambda n: bangs(dev_texts, n), want_calm, lambda n: bangs(agents, n))  # fmt: skip
    choose("max_caps_words", [0, 1, 2, 3], calm.params["max_caps_words"],
           lambda n: shouts(dev_texts, n), want_calm, lambda n: shouts(agents, n))  # fmt: skip


if __name__ == "__main__":
    main()
