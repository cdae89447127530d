"""The eval commands' contract: names, fields and reports (on small data we write here; the public data
under ../shared is never needed by tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

pytestmark = pytest.mark.integration
runner = CliRunner()

LABELLED = {
    "late": ["my parcel is late", "order still not here", "delivery is two days late", "where is my package",
             "tracking has not moved", "pesanan belum sampai", "paket telat terus", "kurir belum datang"],
    "refund": ["I want my money back", "please refund me", "refund still missing", "where is my refund",
               "return the money for this", "minta refund dong", "dana belum kembali", "tolong kembalikan uang saya"],
    "thanks": ["thank you so much", "great service today", "the rider was lovely", "love the app",
               "terima kasih banyak", "pelayanan mantap", "kurirnya ramah sekali", "makasih kak"],
}  # fmt: skip


def write_jsonl(path: Path, rows: list[dict]) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def last_json(output: str) -> dict:  # type: ignore[type-arg]
    return json.loads(output.strip().splitlines()[-1])


def test_eval_classify_cv_and_test_file_with_report(tmp_path: Path) -> None:
    rows = [{"text": t, "label": lab} for lab, texts in LABELLED.items() for t in texts]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    test = write_jsonl(tmp_path / "test.jsonl", [{"text": "my order is late again", "label": "late"},
                                                  {"text": "give me a refund", "label": "refund"},
                                                  {"text": "extra line", "label": "ignored"}])  # fmt: skip
    r = runner.invoke(app, ["eval", "classify", "--train", str(train), "--cv", "2", "--json"])
    assert r.exit_code == 0, r.output
    out = last_json(r.output)
    assert set(out) == {"n", "accuracy", "macro_f1", "per_label", "ms_p50", "ms_p95", "seconds",
                        "unclear_rate", "accuracy_when_clear", "tune_epochs"}  # fmt: skip
    assert out["tune_epochs"] == 0  # the service's default: the base model's embeddings
    assert 0 <= out["unclear_rate"] <= 1
    assert out["n"] == 24 and set(out["per_label"]) == set(LABELLED)
    assert set(out["per_label"]["late"]) == {"precision", "recall", "f1", "support"}
    assert out["accuracy"] > 0.5

    r = runner.invoke(app, ["eval", "classify", "--train", str(train), "--data", str(test), "--labels", "late,refund",
                            "--shots", "4", "--seed", "1", "--tune-epochs", "1", "--baselines", "--json",
                            "--report", str(tmp_path / "rep")])  # fmt: skip
    assert r.exit_code == 0, r.output
    out = last_json(r.output)
    assert out["n"] == 2 and set(out["per_label"]) <= {"late", "refund"}
    # a tuned classifier reads its own model; the baselines still get the base sentence embeddings
    assert out["baselines"]["minilm_lr"]["n"] == 2 and len(out["baselines"]["minilm_lr"]["C"]) == 1
    assert out["tune_epochs"] == 1 and "tuning the embedding model on 8 lines" in r.output
    report = (tmp_path / "rep" / "classify.md").read_text(encoding="utf-8")
    assert "sha256" in report and "command" in report and "embedding model" in report
    assert (tmp_path / "rep" / "confusion.png").stat().st_size > 1000


def test_eval_classify_scores_the_plain_baselines_on_the_same_lines(tmp_path: Path) -> None:
    rows = [{"text": t, "label": lab} for lab, texts in LABELLED.items() for t in texts]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    r = runner.invoke(app, ["eval", "classify", "--train", str(train), "--cv", "2", "--baselines", "--json",
                            "--report", str(tmp_path / "rep")])  # fmt: skip
    assert r.exit_code == 0, r.output
    out = last_json(r.output)
    assert set(out["baselines"]) == {"tfidf_lr", "minilm_lr"}
    for m in out["baselines"].values():
        assert m["n"] == out["n"] == 24 and set(m["per_label"]) == set(LABELLED)
        assert len(m["C"]) == 2 and set(m["C"]) <= {1.0, 10.0, 100.0}  # one C per fold, from the grid
        assert 0 <= m["accuracy"] <= 1
    better = {key: max(m[key] for m in out["baselines"].values()) for key in ("accuracy", "macro_f1")}
    lead = (f"Tenang over the better baseline: accuracy {round(out['accuracy'] - better['accuracy'], 4):+.4f}, "
            f"macro_f1 {round(out['macro_f1'] - better['macro_f1'], 4):+.4f}")  # fmt: skip
    assert lead in r.output
    report = (tmp_path / "rep" / "classify.md").read_text(encoding="utf-8")
    assert "| MiniLM + LR |" in report and "| TF-IDF + LR |" in report and lead in report
    # without the flag the JSON keeps its contract
    r = runner.invoke(app, ["eval", "classify", "--train", str(train), "--cv", "2", "--json"])
    assert "baselines" not in last_json(r.output)


def test_eval_classify_needs_exactly_one_of_data_or_cv(tmp_path: Path) -> None:
    r = runner.invoke(app, ["eval", "classify", "--cv", "2", "--data", str(tmp_path / "x.jsonl")])
    assert r.exit_code == 1 and "exactly one" in r.output
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"text": "no label here"}])
    r = runner.invoke(app, ["eval", "classify", "--train", str(bad), "--cv", "2"])
    assert r.exit_code == 1 and "bad.jsonl:1" in r.output


def test_eval_tone_with_a_fail_label(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "tone.jsonl", [
        {"text": "I'm sorry about the delay. Please DM us your order number.", "label": "good"},
        {"text": "Thanks for waiting, we'll check your order now.", "label": "good"},
        {"text": "CALM DOWN!!! You should have read the FAQ.", "label": "bad"},
        {"text": "Deal with it, that's your problem.", "label": "bad"},
        {"text": "Whatever. Read the terms.", "label": "bad", "channel": "twitter", "public": True},
    ])  # fmt: skip
    r = runner.invoke(app, ["eval", "tone", "--data", str(data), "--criterion", "calm,courteous,no_blame",
                            "--fail-label", "bad", "--json", "--report", str(tmp_path / "rep")])  # fmt: skip
    assert r.exit_code == 0, r.output
    out = last_json(r.output)
    assert set(out) == {"n", "pass_rate", "accuracy", "precision_fail", "recall_fail", "f1_fail"}
    assert out == {"n": 5, "pass_rate": 0.4, "accuracy": 1.0, "precision_fail": 1.0, "recall_fail": 1.0, "f1_fail": 1.0}
    assert (tmp_path / "rep" / "per_criterion.png").exists()

    r = runner.invoke(app, ["eval", "tone", "--data", str(data), "--labels", "good", "--json"])
    assert r.exit_code == 0 and last_json(r.output) == {"n": 2, "pass_rate": 1.0}
    r = runner.invoke(app, ["eval", "tone", "--data", str(data), "--criterion", "politeness"])
    assert r.exit_code == 1 and "unknown criteria" in r.output


def test_eval_drafts_with_a_report(tmp_path: Path) -> None:
    cases = write_jsonl(tmp_path / "cases.jsonl", [
        {"id": "c1", "text": "My order KN-100200 is late", "channel": "twitter", "public": True,
         "expect": {"issue_type": "delivery_delay", "must_contain_any": ["DM"]}},
        {"id": "c2", "text": "Saldo NusaPay saya terpotong dua kali", "channel": "chat", "public": False,
         "expect": {"issue_type": "billing_error"}},
    ])  # fmt: skip
    r = runner.invoke(app, ["eval", "drafts", "--data", str(cases), "--json", "--report", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    out = last_json(r.output)
    assert out["n"] == 2 and out["variants"] == 6 and out["rubric_pass_rate"] == 1.0
    assert {"per_criterion_pass_rate", "issue_type_accuracy", "expectation_failures", "ms_p50", "ms_p95"} <= set(out)
    report = (tmp_path / "rep" / "drafts.md").read_text(encoding="utf-8")
    assert "rubric" in report and "sha256" in report and (tmp_path / "rep" / "per_criterion.png").exists()


def test_eval_tone_with_per_criterion_labels(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "replies.jsonl", [
        {"id": "a", "text": "CALM DOWN!!! Read the FAQ.", "fail": ["calm", "courteous"]},
        {"id": "b", "text": "Sorry your parcel is late. Please DM us the order number and we'll trace it.", "fail": []},
    ])  # fmt: skip
    r = runner.invoke(app, ["eval", "tone", "--data", str(data), "--criterion", "all", "--json"])
    assert r.exit_code == 0, r.output
    out = last_json(r.output)
    assert out["accuracy"] == 1.0 and out["per_criterion"]["calm"]["support"] == 1
    assert out["per_criterion"]["calm"]["recall_fail"] == 1.0 and "labelled 1, flagged 1" in r.output
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "x", "text": "hi", "fail": ["politeness"]}])
    r = runner.invoke(app, ["eval", "tone", "--data", str(bad), "--criterion", "all"])
    assert r.exit_code == 1 and "unknown criteria in 'fail': politeness" in r.output


def test_eval_crisis_replays_a_seeded_stream_and_reports_delays_and_false_alerts() -> None:
    r = runner.invoke(app, ["eval", "crisis", "--weeks", "0.5", "--seed", "4", "--no-service", "--json"])
    assert r.exit_code == 0, r.output
    out = last_json(r.output)
    assert {"events", "incidents", "alerts", "big_incidents", "big_detected_within_15_min", "delay_minutes_median_big",
            "delay_minutes_worst_big", "false_alerts", "false_alerts_per_week", "per_incident", "link_precision",
            "link_recall", "big_detected_within_15_min_of_big_rate"} <= set(out)  # fmt: skip
    assert out["link_precision"] >= 0.5 and out["link_recall"] >= 0.5
    assert out["incidents"] == 2 and out["events"] > 150
    outage = out["per_incident"][0]
    assert outage["kind"] == "outage_id_x" and outage["detected"] and outage["delay_minutes"] < 15
    again = last_json(runner.invoke(app, ["eval", "crisis", "--weeks", "0.5", "--seed", "4", "--no-service", "--json"]).output)
    assert again == out  # the same seed replays the same stream and the same alerts
