"""POST /v1/tone/evaluate: a team scores replies written anywhere, in bulk, and gets the same figures
as `tenang eval tone`."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app

REPLIES = [
    {"text": "I'm sorry about the delay. Please DM us your order number and we'll trace it.", "label": "good"},
    {"text": "Thanks for waiting, we'll check your order now.", "label": "good"},
    {"text": "CALM DOWN!!! You should have read the FAQ.", "label": "bad"},
    {"text": "Deal with it, that's your problem.", "label": "bad"},
    {"text": "As we already told you, it's in the terms.", "label": "bad"},
    {"text": "Whatever. Read the terms.", "label": "bad", "channel": "twitter", "public": True},
]


def test_a_batch_gets_verdicts_and_the_eval_tone_summary(client: TestClient, tmp_path: Path) -> None:
    body = {"items": REPLIES, "criteria": ["calm", "courteous", "no_blame"], "fail_label": "bad"}
    r = client.post("/v1/tone/evaluate", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    items = out["items"]
    assert [i["index"] for i in items] == list(range(len(REPLIES)))
    assert [i["label"] for i in items] == [x["label"] for x in REPLIES]
    assert items[0]["passed"] and items[1]["passed"] and not items[2]["passed"]
    assert {"calm"} <= set(items[2]["failed"]) and items[2]["verdict"]["criteria"]
    summary = out["summary"]
    assert set(summary["per_criterion_pass_rate"]) >= {"calm", "courteous", "no_blame", "no_pii"}
    assert summary["n"] == len(REPLIES)
    assert summary["pass_rate"] == round(sum(i["passed"] for i in items) / len(items), 4)

    # The CLI on the same lines prints the same figures.
    data = tmp_path / "replies.jsonl"
    data.write_text("\n".join(json.dumps(x) for x in REPLIES), encoding="utf-8")
    cli = CliRunner().invoke(app, ["eval", "tone", "--data", str(data), "--criterion", "calm,courteous,no_blame",
                                   "--fail-label", "bad", "--json"])  # fmt: skip
    assert cli.exit_code == 0, cli.output
    printed = json.loads(cli.output.strip().splitlines()[-1])
    assert printed == {k: v for k, v in summary.items() if k != "per_criterion_pass_rate" and v is not None}


def test_request_defaults_fill_items_that_give_no_channel(client: TestClient) -> None:
    reply = "Hi Rina, sorry for the trouble. Please email us your phone number 0812-5555-0101 and we'll call."
    private = client.post("/v1/tone/evaluate", json={"items": [{"text": reply}], "channel": "email"}).json()
    public = client.post("/v1/tone/evaluate", json={"items": [{"text": reply}], "channel": "twitter", "public": True}).json()
    assert "no_pii" not in private["items"][0]["failed"]  # a phone number in a private email is fine
    assert "no_pii" in public["items"][0]["failed"]  # in a public tweet it is not
    assert public["summary"]["pass_rate"] == 0.0 and "accuracy" not in {
        k for k, v in public["summary"].items() if v is not None
    }


def test_bad_batches_are_problems(client: TestClient) -> None:
    r = client.post("/v1/tone/evaluate", json={"items": [{"text": "ok"}], "criteria": ["politeness"]})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "unknown criteria politeness" in r.json()["detail"]
    too_many = client.post("/v1/tone/evaluate", json={"items": [{"text": "ok"}] * 501})
    assert too_many.status_code == 422 and too_many.headers["content-type"].startswith("application/problem+json")
    empty = client.post("/v1/tone/evaluate", json={"items": []})
    assert empty.status_code == 422


def test_texts_labelled_per_criterion_get_each_criteria_precision_and_recall(client: TestClient) -> None:
    items = [
        {"text": "CALM DOWN!!! Read the FAQ.", "fail": ["calm", "courteous"]},
        {"text": "WHY would we refund that?!!", "fail": ["calm"]},
        {"text": "Sorry your parcel is late, Rina. Please DM us the order number and we'll trace it.", "fail": []},
        {"text": "Thanks for waiting! We'll check your order now.", "fail": ["calm"]},  # a label the rubric disputes
    ]
    out = client.post("/v1/tone/evaluate", json={"items": items}).json()
    calm = out["summary"]["per_criterion"]["calm"]
    assert calm["support"] == 3 and calm["flagged"] == 2  # one friendly "!" is style, not shouting
    assert calm["precision_fail"] == 1.0 and calm["recall_fail"] == round(2 / 3, 4)
    assert out["summary"]["per_criterion"]["no_pii"] == {
        "precision_fail": 0.0, "recall_fail": 0.0, "f1_fail": 0.0, "support": 0, "flagged": 0}
    # overall: a text labelled with any failure should fail the rubric
    assert out["summary"]["accuracy"] == 0.75 and out["summary"]["recall_fail"] == round(2 / 3, 4)

    bad = client.post("/v1/tone/evaluate", json={"items": [{"text": "ok", "fail": ["politeness"]}]})
    assert bad.status_code == 422 and "items[0].fail" in bad.json()["detail"]
