"""The model judge's plumbing against a scripted OpenAI-compatible server on 127.0.0.1: what it sends,
what it reads back, that its failures never fail a check, that the blocking checks decide whatever it
says, and that `eval tone --judge` and `/v1/tone/evaluate` report its agreement with people's labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.ports import Embedder
from tests.conftest import make_client
from tests.llm_server import Step

pytestmark = pytest.mark.integration

GOOD_REPLY = ("I'm sorry your order KN-482913 arrived with crushed eggs; that's on us. Please DM us a photo "
              "and we'll sort out a refund for the eggs.")  # fmt: skip
COMPLAINT = {"text": "My eggs arrived crushed, order KN-482913. Email me at rina@example.com", "channel": "twitter"}


def answer(empathy: int, transparency: int, specificity: int) -> str:
    return json.dumps({
        "empathy": {"score": empathy, "reason": "names the crushed eggs"},
        "transparency": {"score": transparency, "reason": "owns the fault"},
        "specificity": {"score": specificity, "reason": "photo by DM, refund"},
    })  # fmt: skip


def _client(tmp_path: Path, embedder: Embedder, url: str) -> TestClient:
    settings = Settings(
        _env_file=None, database={"url": f"sqlite:///{tmp_path}/t.db"}, chroma={"path": tmp_path / "chroma"},
        llm={"base_url": url, "model": "judge-1", "timeout_s": 5, "max_retries": 0, "api_key": "test"},
    )  # fmt: skip
    return make_client(settings, embedder, ingest_pack=False)


def test_the_judge_scores_with_reasons_and_sees_only_redacted_data(tmp_path: Path, embedder: Embedder, llm) -> None:  # type: ignore[no-untyped-def]
    script, server = llm
    script.steps.append(Step(content="```json\n" + answer(4, 2, 5) + "\n```"))
    client = _client(tmp_path, embedder, server.url)
    r = client.post("/v1/tone/check", json={"text": GOOD_REPLY, "complaint": COMPLAINT, "judge": True})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["passed"] is True  # the judge's low transparency is advisory
    j = v["judge"]
    assert j["model"] == "judge-1" and j["prompt"].startswith("tone_judge@v1:") and j["error"] is None
    assert {s["criterion"]: (s["score"], s["passed"]) for s in j["scores"]} == {
        "empathy": (4, True), "transparency": (2, False), "specificity": (5, True)}  # fmt: skip
    assert j["scores"][0]["reason"] == "names the crushed eggs"

    prompt = "\n".join(m["content"] for m in script.requests[0]["messages"])
    assert GOOD_REPLY in prompt and "<<<REPLY" in prompt and "<<<COMPLAINT" in prompt
    assert "rina@example.com" not in prompt and "[email]" in prompt
    assert "twitter (public: yes)" in prompt

    # Without asking, no model call and no judge block.
    r = client.post("/v1/tone/check", json={"text": GOOD_REPLY, "complaint": COMPLAINT})
    assert r.json()["judge"] is None and len(script.requests) == 1


def test_blocking_checks_decide_whatever_the_judge_says(tmp_path: Path, embedder: Embedder, llm) -> None:  # type: ignore[no-untyped-def]
    script, server = llm
    script.steps += [Step(content=answer(5, 5, 5)), Step(content="I think it's fine!"), Step(status=500)]
    client = _client(tmp_path, embedder, server.url)
    hostile = {"text": "Stop complaining, it's your own fault you typed the wrong address.", "channel": "chat",
               "judge": True}  # fmt: skip
    v = client.post("/v1/tone/check", json=hostile).json()
    assert v["passed"] is False and all(s["passed"] for s in v["judge"]["scores"])
    assert {"courteous", "no_blame"} <= {c["id"] for c in v["criteria"] if not c["passed"]}

    # A malformed answer and a failing model leave an error on the judge, never a failed request.
    for code in ("model-output-invalid", "upstream"):
        r = client.post("/v1/tone/check", json={"text": GOOD_REPLY, "channel": "chat", "judge": True})
        assert r.status_code == 200
        assert r.json()["judge"]["error"].startswith(code) and r.json()["judge"]["scores"] == []
        assert r.json()["passed"] is True


def test_without_a_model_the_judge_is_a_409(settings: Settings, embedder: Embedder) -> None:
    client = make_client(settings, embedder, ingest_pack=False)
    r = client.post("/v1/tone/check", json={"text": GOOD_REPLY, "judge": True})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/model-not-configured") and "TENANG_LLM__BASE_URL" in r.json()["detail"]
    r = client.post("/v1/tone/evaluate", json={"items": [{"text": GOOD_REPLY}], "judge": True})
    assert r.status_code == 409
    r = client.post("/v1/tone/evaluate", json={"items": [{"text": GOOD_REPLY, "subjective": {"warmth": True}}]})
    assert r.status_code == 422 and "warmth" in r.text


def test_evaluate_reports_the_judges_agreement_with_people(tmp_path: Path, embedder: Embedder, llm) -> None:  # type: ignore[no-untyped-def]
    script, server = llm
    script.steps += [Step(content=answer(4, 4, 4)), Step(content=answer(2, 4, 1)), Step(content="no json")]
    client = _client(tmp_path, embedder, server.url)
    items = [
        {"text": GOOD_REPLY, "subjective": {"empathy": True, "transparency": True, "specificity": True}},
        {"text": "Thank you for your feedback.", "subjective": {"empathy": False, "transparency": False, "specificity": False}},
        {"text": "We apologise for any inconvenience.", "subjective": {"empathy": False}},
    ]  # fmt: skip
    r = client.post("/v1/tone/evaluate", json={"items": items, "judge": True})
    assert r.status_code == 200, r.text
    j = r.json()["summary"]["judge"]
    assert j["judged"] == 2 and j["errors"] == 1 and j["model"] == "judge-1"
    per = j["per_criterion"]
    assert per["empathy"]["n"] == 2 and per["empathy"]["agreement"] == 1.0 and per["empathy"]["kappa"] == 1.0
    assert per["transparency"]["agreement"] == 0.5 and per["transparency"]["judge_pass_rate"] == 1.0
    assert per["transparency"]["recall_fail"] == 0.0 and per["specificity"]["f1_fail"] == 1.0


def test_eval_tone_judge_from_the_command_line(tmp_path: Path, llm, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    script, server = llm
    data = tmp_path / "sub.jsonl"
    rows = [{"text": GOOD_REPLY, "subjective": {"empathy": True, "specificity": True}},
            {"text": "Noted.", "subjective": {"empathy": False, "specificity": False}}]  # fmt: skip
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["eval", "tone", "--data", str(data), "--judge"])
    assert r.exit_code == 1 and "--judge needs a model" in r.output

    monkeypatch.setenv("TENANG_LLM__BASE_URL", server.url)
    monkeypatch.setenv("TENANG_LLM__MODEL", "judge-cli")
    monkeypatch.setenv("TENANG_DATABASE__URL", f"sqlite:///{tmp_path}/cli.db")
    script.steps += [Step(content=answer(5, 3, 4)), Step(content=answer(4, 3, 2))]
    r = runner.invoke(app, ["eval", "tone", "--data", str(data), "--judge", "--json"])
    assert r.exit_code == 0, r.output
    assert "judge judge-cli" in r.output
    j = json.loads(r.output.strip().splitlines()[-1])["judge"]
    assert j["per_criterion"]["empathy"]["agreement"] == 0.5 and j["per_criterion"]["specificity"]["agreement"] == 1.0
    assert "transparency" not in j["per_criterion"]  # nobody labelled it

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "ok", "subjective": {"empathy": "yes"}}) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["eval", "tone", "--data", str(bad)])
    assert r.exit_code == 1 and "'subjective' must map" in r.output
