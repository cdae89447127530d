from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def _problem(r, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "instance", "request_id"} <= set(body)
    assert body["status"] == status and body["detail"]
    return body


@pytest.mark.parametrize(
    "complaint",
    [
        {"text": "", "channel": "twitter"},
        {"text": "   \n ", "channel": "twitter"},
        {"text": "x" * 10_001, "channel": "twitter"},
        {"text": "late order", "channel": "carrier-pigeon"},
        {"text": 42, "channel": "chat"},
        {"text": "late order", "channel": "chat", "public": "yes"},
        {"channel": "chat"},
    ],
)
def test_bad_complaints_get_a_clear_422(client: TestClient, complaint: dict) -> None:  # type: ignore[type-arg]
    body = _problem(client.post("/v1/drafts", json={"complaint": complaint}), 422)
    assert "complaint" in body["detail"]


def test_too_many_variants_is_rejected(client: TestClient) -> None:
    _problem(client.post("/v1/drafts", json={"complaint": {"text": "hi", "channel": "chat"}, "options": {"variants": 4}}), 422)


def test_invalid_json_is_a_400(client: TestClient) -> None:
    r = client.post("/v1/drafts", content=b'{"complaint": ', headers={"content-type": "application/json"})
    assert "JSON" in _problem(r, 400)["detail"]


def test_body_over_one_mebibyte_is_a_413(client: TestClient) -> None:
    big = b'{"complaint": {"text": "' + b"a" * (1024 * 1024) + b'", "channel": "chat"}}'
    _problem(client.post("/v1/drafts", content=big, headers={"content-type": "application/json"}), 413)


def test_unknown_route_is_a_problem_too(client: TestClient) -> None:
    _problem(client.get("/v1/nowhere"), 404)
