"""The review flow over HTTP: queue, approve (edits, overrides, two reviewers), reject, regenerate,
sent, ETag/If-Match, roles, the audit trail, and learning from approvals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.auth.keys import Role, create_key
from service.config import Settings
from service.ports import Embedder
from tests.conftest import make_client

LATE = {"complaint": {"text": "My order KN-220145 is three days late and nobody answers my emails", "channel": "email",
                      "author": {"handle": "@sari", "name": "Sari"}}}  # fmt: skip
SAFETY = {"complaint": {"text": "My son had an allergic reaction after eating your Nusa Pilihan cookies, peanuts "
                                "weren't on the label. We spent the night in hospital.", "channel": "email"}}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("review")
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp}/r.db"}, chroma={"path": tmp / "chroma"})
    c = make_client(settings, embedder)
    yield c
    c.__exit__(None, None, None)


def key(client: TestClient, role: Role, name: str) -> dict[str, str]:
    services = client.app.state.services  # type: ignore[attr-defined]
    k = create_key(services.store, name=name, role=role, now=services.clock.now())
    return {"Authorization": f"Bearer {k.secret}"}


def new_draft(client: TestClient, body: dict = LATE) -> dict:  # type: ignore[type-arg]
    r = client.post("/v1/drafts", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_approve_a_variant_then_send(app_client: TestClient) -> None:
    d = new_draft(app_client)
    got = app_client.get(f"/v1/drafts/{d['id']}")
    assert got.headers["etag"] == '"1"'
    r = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v2", "reviewer_note": "good"},
                        headers={"If-Match": '"1"'})  # fmt: skip
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["status"] == "approved" and a["version"] == 2 and r.headers["etag"] == '"2"'
    assert a["review"]["final_text"] == d["variants"][1]["text"] and a["review"]["final_variant_id"] == "v2"

    again = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v1"})
    assert again.status_code == 409 and again.json()["type"].endswith("/invalid-transition")

    s = app_client.post(f"/v1/drafts/{d['id']}/sent", json={"external_id": "zd-99"})
    assert s.status_code == 200 and s.json()["status"] == "sent" and s.json()["review"]["external_id"] == "zd-99"

    audit = app_client.get(f"/v1/drafts/{d['id']}/audit").json()
    assert [e["action"] for e in audit["items"]] == ["created", "checked", "checked", "approved", "sent"]
    assert audit["chain_verified"] is True
    assert audit["items"][3]["from_state"] == "pending_review" and audit["items"][3]["to_state"] == "approved"
    assert audit["items"][3]["text_hash"] and audit["items"][3]["prompt_refs"]["playbook"].startswith("delivery_delay")


def test_a_stale_if_match_is_412_and_a_missing_one_acts_on_the_current_version(app_client: TestClient) -> None:
    d = new_draft(app_client)
    r = app_client.post(f"/v1/drafts/{d['id']}/reject", json={"reason": "too long"}, headers={"If-Match": '"7"'})
    assert r.status_code == 412 and r.headers["content-type"].startswith("application/problem+json")
    r = app_client.post(f"/v1/drafts/{d['id']}/reject", json={"reason": "too long"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["review"]["rejected_reason"] == "too long"
    assert app_client.post(f"/v1/drafts/{d['id']}/sent", json={}).status_code == 409


def test_edits_are_rechecked_and_a_failing_edit_needs_an_override(app_client: TestClient) -> None:
    d = new_draft(app_client)
    bad = "Hi Sari,\n\nWe guarantee this will never happen again.\n\nKind regards,\nDewi"
    r = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"edited_text": bad})
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"].endswith("/override-required") and "no_overpromise" in problem["failing_criteria"]

    r = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"edited_text": bad, "override_reason": "legal approved"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    verdict = r.json()["review"]["final_rubric"]
    assert verdict["passed"] is False
    actions = [e["action"] for e in app_client.get(f"/v1/drafts/{d['id']}/audit").json()["items"]]
    assert actions[-4:] == ["edited", "checked", "override", "approved"]


def test_a_good_edit_is_approved_without_override(app_client: TestClient) -> None:
    d = new_draft(app_client)
    good = ("Hi Sari,\n\nI'm sorry order KN-220145 is late and that our replies have been slow. I've asked our "
            "delivery team to trace it and I'll email you as soon as I hear back.\n\nKind regards,\nDewi\nKedai Nusa Care")
    r = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"edited_text": good})
    assert r.status_code == 200 and r.json()["review"]["final_rubric"]["passed"] is True


def test_severe_drafts_need_two_different_reviewers(app_client: TestClient) -> None:
    d = new_draft(app_client, SAFETY)
    assert d["classification"]["issue_type"] == "product_safety" and d["classification"]["severity"] == "critical"
    alice, bob = key(app_client, Role.reviewer, "alice"), key(app_client, Role.reviewer, "bob")
    first = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v1"}, headers=alice)
    assert first.status_code == 200 and first.json()["status"] == "pending_review"
    assert first.json()["review"]["required_approvals"] == 2 and len(first.json()["review"]["approvals"]) == 1
    same = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v1"}, headers=alice)
    assert same.status_code == 409
    other_text = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v2"}, headers=bob)
    assert other_text.status_code == 409
    second = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v1"}, headers=bob)
    assert second.status_code == 200 and second.json()["status"] == "approved"
    actions = [e["action"] for e in app_client.get(f"/v1/drafts/{d['id']}/audit").json()["items"]]
    assert "approval_1_of_2" in actions and actions[-1] == "approved"


def test_regenerate_supersedes_the_old_draft(app_client: TestClient) -> None:
    d = new_draft(app_client)
    r = app_client.post(f"/v1/drafts/{d['id']}/regenerate", json={"feedback": "warmer please"})
    assert r.status_code == 201, r.text
    fresh = r.json()
    assert fresh["id"] != d["id"] and fresh["status"] == "pending_review"
    assert fresh["review"]["supersedes"] == d["id"] and fresh["review"]["regenerate_feedback"] == "warmer please"
    assert [v["text"] for v in fresh["variants"]] != [v["text"] for v in d["variants"]]
    old = app_client.get(f"/v1/drafts/{d['id']}").json()
    assert old["status"] == "superseded" and old["review"]["superseded_by"] == fresh["id"]
    assert app_client.post(f"/v1/drafts/{d['id']}/regenerate", json={}).status_code == 409


def test_the_queue_orders_by_deadline_and_counts_per_status(app_client: TestClient) -> None:
    new_draft(app_client, SAFETY)
    page = app_client.get("/v1/drafts", params={"status": "pending_review"}).json()
    assert page["total"] >= 1 and page["counts"]["pending_review"] == page["total"]
    deadlines = [i["deadline"] for i in page["items"]]
    assert deadlines == sorted(deadlines)
    assert page["items"][0]["classification"]["severity"] == "critical"
    only = app_client.get("/v1/drafts", params={"issue_type": "product_safety"}).json()
    assert {i["classification"]["issue_type"] for i in only["items"]} == {"product_safety"}
    assert app_client.get("/v1/drafts", params={"status": "nonsense"}).status_code == 422


def test_roles_and_keys(app_client: TestClient) -> None:
    d = new_draft(app_client)
    agent = key(app_client, Role.agent, "bot")
    assert app_client.post("/v1/drafts", json=LATE, headers=agent).status_code == 201
    r = app_client.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v1"}, headers=agent)
    assert r.status_code == 403 and r.json()["type"].endswith("/forbidden")
    assert app_client.get("/v1/keys", headers=key(app_client, Role.reviewer, "rev")).status_code == 403

    no_key = TestClient(app_client.app)
    assert no_key.get(f"/v1/drafts/{d['id']}").status_code == 401
    wrong = no_key.get(f"/v1/drafts/{d['id']}", headers={"Authorization": "Bearer tn_wrong"})
    assert wrong.status_code == 401 and wrong.headers["content-type"].startswith("application/problem+json")
    assert no_key.get("/healthz").status_code == 200

    created = app_client.post("/v1/keys", json={"name": "carol", "role": "reviewer"})
    assert created.status_code == 201 and created.json()["key"].startswith("tn_")
    carol = {"X-API-Key": created.json()["key"]}
    assert app_client.post(f"/v1/drafts/{d['id']}/reject", json={"reason": "x"}, headers=carol).status_code == 200
    listed = app_client.get("/v1/keys").json()
    assert any(k["name"] == "carol" for k in listed) and all("key" not in k for k in listed)
    assert app_client.delete(f"/v1/keys/{created.json()['id']}").status_code == 204
    assert no_key.get(f"/v1/drafts/{d['id']}", headers=carol).status_code == 401
    assert app_client.delete("/v1/keys/key_nope").status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/drafts/nope/approve", {"variant_id": "v1"}, 404),
        ("/v1/drafts/nope/audit", None, 404),
        ("/v1/drafts/{id}/approve", {}, 422),
        ("/v1/drafts/{id}/approve", {"variant_id": "v1", "edited_text": "x"}, 422),
        ("/v1/drafts/{id}/approve", {"variant_id": "v9"}, 422),
        ("/v1/drafts/{id}/reject", {}, 422),
        ("/v1/drafts/{id}/reject", {"reason": "   "}, 422),
        ("/v1/drafts/{id}/sent", {}, 409),
    ],
)
def test_bad_review_requests_get_clear_4xx(app_client: TestClient, path: str, body: dict | None, status: int) -> None:  # type: ignore[type-arg]
    d = new_draft(app_client)
    url = path.replace("{id}", d["id"])
    r = app_client.get(url) if body is None else app_client.post(url, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["detail"]


def test_an_approved_reply_is_learned_and_retrieved_next_time(app_client: TestClient) -> None:
    text = "Hi, the kombucha I ordered arrived fizzing out of the cap and leaked over everything in the bag."
    d = new_draft(app_client, {"complaint": {"text": text, "channel": "chat"}})
    app_client.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v1"})
    hits = app_client.get("/v1/knowledge/search", params={"q": text, "k": 10}).json()["items"]
    assert any(h["id"] == f"approved:{d['id']}" for h in hits)
    again = new_draft(app_client, {"complaint": {"text": text + " Again!", "channel": "chat"}})
    assert any(s["id"] == f"approved:{d['id']}" for s in again["sources"])


def test_export_cases_writes_rejections_and_edits(app_client: TestClient, tmp_path: Path) -> None:
    from evals.cases import cases_from_reviews, load_cases

    services = app_client.app.state.services  # type: ignore[attr-defined]
    cases = list(cases_from_reviews(services.store.all_drafts()))
    outcomes = {c.review["outcome"] for c in cases if c.review}
    assert outcomes == {"rejected", "edited"}
    out = tmp_path / "cases.jsonl"
    out.write_text("\n".join(c.model_dump_json(exclude_none=True) for c in cases) + "\n", encoding="utf-8")
    assert len(load_cases(out)) == len(cases)


def test_auth_can_be_disabled_for_local_experiments(tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp_path}/a.db"}, chroma={"path": tmp_path / "c"},
                        auth={"disabled": True})  # fmt: skip
    with caplog.at_level("WARNING"):
        client = make_client(settings, embedder, role=None, ingest_pack=False)
    try:
        assert "AUTH__DISABLED" in caplog.text
        d = client.post("/v1/drafts", json=LATE)
        assert d.status_code == 201
        assert client.post(f"/v1/drafts/{d.json()['id']}/approve", json={"variant_id": "v1"}).status_code == 200
    finally:
        client.__exit__(None, None, None)
