"""Inputs found in review that once crashed or leaked: they must give a draft or a clear 4xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("name", ["   ", "Ibu Sari", "Mr. John Smith", "rina", "🙂"])
def test_any_customer_name_drafts(client: TestClient, name: str) -> None:
    body = {"complaint": {"text": "my order is late", "channel": "email", "author": {"handle": "@x", "name": name}},
            "context": {"customer": {"name": name}}}  # fmt: skip
    r = client.post("/v1/drafts", json=body)
    assert r.status_code == 201, r.text
    first_line = r.json()["variants"][0]["text"].splitlines()[0]
    assert "Ibu," not in first_line and "Mr," not in first_line and "rina" not in first_line


def test_an_order_id_that_is_personal_data_is_never_echoed(client: TestClient) -> None:
    body = {"complaint": {"text": "my order is late", "channel": "chat"}, "context": {"order_id": "081234567890"}}
    d = client.post("/v1/drafts", json=body).json()
    assert all("081234567890" not in v["text"] for v in d["variants"])
    bad = client.post("/v1/drafts", json={"complaint": {"text": "late", "channel": "chat"},
                                          "context": {"order_id": "rina@gmail.com"}})  # fmt: skip
    assert bad.status_code == 422


def test_personal_data_in_other_forms_is_redacted(client: TestClient) -> None:
    text = "NIK saya 3171 0123 4567 0001, telp (021) 555-1234 atau 0812.3456.7890, pesanan belum sampai"
    d = client.post("/v1/drafts", json={"complaint": {"text": text, "channel": "twitter"}}).json()
    for v in d["variants"]:
        for secret in ("3171 0123", "555-1234", "3456.7890"):
            assert secret not in v["text"]


def test_invisible_text_and_strict_author_fields_are_rejected(client: TestClient) -> None:
    assert client.post("/v1/drafts", json={"complaint": {"text": "\u200b\u200b", "channel": "chat"}}).status_code == 422
    author = {"handle": "@x", "followers": "1000"}
    assert client.post("/v1/drafts", json={"complaint": {"text": "late", "channel": "chat", "author": author}}).status_code == 422
    author = {"handle": "@x", "shoe_size": 42}
    assert client.post("/v1/drafts", json={"complaint": {"text": "late", "channel": "chat", "author": author}}).status_code == 422


def test_a_blank_incident_title_is_ignored(client: TestClient) -> None:
    body = {"complaint": {"text": "checkout fails", "channel": "twitter"}, "context": {"incident": {"title": "   "}}}
    d = client.post("/v1/drafts", json=body).json()
    assert all("the  " not in v["text"] and "  and" not in v["text"] for v in d["variants"])


def test_sarcastic_praise_is_a_complaint(client: TestClient) -> None:
    text = "Wow great job @kedainusa, third late delivery this month. Really loving the service 🙄"
    c = client.post("/v1/classify", json={"complaint": {"text": text, "channel": "twitter"}}).json()
    assert c["is_complaint"] is True and c["issue_type"] != "praise"
