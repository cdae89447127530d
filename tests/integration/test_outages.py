"""A vector store outage never loses a complaint: drafting answers from the playbook and says so."""

from __future__ import annotations

import pytest

from service.config import Settings
from service.ports import Embedder
from tests.conftest import make_client
from tests.fakes import DownIndex

pytestmark = pytest.mark.integration


def test_drafting_survives_a_vector_store_outage_and_readyz_reports_it(settings: Settings, embedder: Embedder) -> None:
    client = make_client(settings, embedder, ingest_pack=False, index=DownIndex())
    try:
        r = client.post("/v1/drafts", json={"complaint": {"text": "My groceries arrived crushed", "channel": "twitter"}})
        assert r.status_code == 201
        d = r.json()
        assert d["sources"] == [] and "retrieval failed" in d["retrieval_error"]
        assert len(d["variants"]) == 3 and all(v["rubric"]["passed"] for v in d["variants"])
        assert client.get(f"/v1/drafts/{d['id']}").status_code == 200

        ready = client.get("/readyz")
        assert ready.status_code == 200  # still drafting, from the playbook alone
        body = ready.json()
        assert body["status"] == "degraded" and body["checks"]["vector_store"]["status"] == "down"
        assert body["checks"]["store"]["status"] == "ok"

        search = client.get("/v1/knowledge/search", params={"q": "refund"})
        assert search.status_code == 503 and search.headers["content-type"].startswith("application/problem+json")
    finally:
        client.__exit__(None, None, None)
