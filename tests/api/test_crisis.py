"""One crisis over HTTP, as the README walks it: a burst of complaints (recorded in event time) raises an
alert, delivered to a webhook; an incident opened from it links the burst and the next complaints, whose
drafts use its facts in crisis mode; resolving it prepares follow-ups; the report and a recovery post."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.auth.keys import Role, create_key
from service.cli import app
from service.config import Settings
from service.ports import Embedder
from tests.conftest import make_client
from tests.llm_server import ServerThread

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
BURST = [
    "aplikasi Kedai Nusa error terus, gak bisa checkout dari tadi",
    "checkout gagal mulu @kedainusa, ini kenapa sih",
    "app kedai nusa down ya? bayar gak bisa sama sekali",
    "dari tadi mau bayar di Kedai Nusa gagal terus, error",
    "kedai nusa error lagi?? checkout muter2 doang",
    "gak bisa bayar pesanan di aplikasi kedai nusa, tolong dong",
]


@pytest.fixture(scope="module")
def hook() -> Iterator[tuple[list[dict], ServerThread]]:  # type: ignore[type-arg]
    received: list[dict] = []  # type: ignore[type-arg]
    app = FastAPI()

    @app.post("/hook")
    async def take(request: Request) -> dict[str, bool]:
        received.append(await request.json())
        return {"ok": True}

    with ServerThread(app) as server:
        yield received, server


@pytest.fixture(scope="module")
def crisis_client(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, hook) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("crisis")
    settings = Settings(
        _env_file=None, database={"url": f"sqlite:///{tmp}/c.db"}, chroma={"path": tmp / "chroma"},
        crisis={"alert_webhook_url": f"http://127.0.0.1:{hook[1].port}/hook"},
    )  # fmt: skip
    c = make_client(settings, embedder)
    yield c
    c.__exit__(None, None, None)


def reviewer(client: TestClient, name: str) -> dict[str, str]:
    services = client.app.state.services  # type: ignore[attr-defined]
    k = create_key(services.store, name=name, role=Role.reviewer, now=services.clock.now())
    return {"Authorization": f"Bearer {k.secret}"}


def signal(client: TestClient, text: str, at: datetime, channel: str = "twitter") -> dict:  # type: ignore[type-arg]
    r = client.post("/v1/signals", json={"complaint": {"text": text, "channel": channel, "author": {"handle": "@x", "followers": 250}},
                                         "created_at": at.isoformat()})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_one_crisis_end_to_end(crisis_client: TestClient, hook, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = crisis_client
    # quiet background the day before, then the burst, one complaint a minute
    signal(c, "my parcel is two days late, where is it?", T0 - timedelta(hours=20), "email")
    signal(c, "kurirnya kasar banget tadi pas antar pesanan", T0 - timedelta(hours=5), "instagram")
    tipped = [signal(c, text, T0 + timedelta(minutes=i)) for i, text in enumerate(BURST)]
    outage = sum(s["issue_type"] == "service_outage" for s in tipped)
    assert outage >= 4, [s["issue_type"] for s in tipped]  # the classifier may call one of them a billing error
    assert any(s["alerts"] for s in tipped) and not any(s["alerts"] for s in tipped[:3])  # min count: 3 is not a spike

    alerts = c.get("/v1/alerts").json()["items"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert set(alert) >= {"id", "issue_type", "topic", "window_start", "detected_at", "count", "baseline", "samples"}
    assert alert["count"] >= 4 and alert["baseline"] < 1 and alert["samples"]
    assert datetime.fromisoformat(alert["detected_at"]) <= T0 + timedelta(minutes=5)  # event time, not wall time
    services = c.app.state.services  # type: ignore[attr-defined]
    assert services.crisis.webhook.drain() == [True]
    assert hook[0][0]["type"] == "alert" and hook[0][0]["alert"]["id"] == alert["id"]

    lead = reviewer(c, "comms-lead")
    r = c.post("/v1/incidents", headers=lead, json={
        "title": "checkout outage", "alert_id": alert["id"], "at_fault": True, "status": "investigating",
        "public_note": "Payments in the Kedai Nusa app are failing for some customers; our engineers are on it.",
        "holding_statement": "We know some of you can't pay in the app right now. We're on it.",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["issue_types"] == [alert["issue_type"]] and inc["linked_count"] == outage  # the burst is backfilled
    assert c.get("/v1/alerts").json()["items"][0]["incident_id"] == inc["id"]
    again = c.post("/v1/incidents", headers=lead, json={"title": "checkout outage", "alert_id": alert["id"]})
    assert again.status_code == 409 and inc["id"] in again.json()["detail"]  # a double click opens one incident

    # a new complaint about the outage is linked and drafted with the incident's facts, in crisis mode
    r = c.post("/v1/drafts", json={"complaint": {"text": "@kedainusa payments in your app keep failing, I can't check out",
                                                 "channel": "twitter", "author": {"handle": "@rina", "name": "Rina"}}})
    assert r.status_code == 201, r.text
    linked = r.json()
    assert linked["incident_id"] == inc["id"] and linked["kind"] == "reply"
    assert linked["context"]["incident"]["title"] == "checkout outage"
    assert all("checkout outage" in v["text"] for v in linked["variants"]), [v["text"] for v in linked["variants"]]
    assert linked["classification"]["at_fault"] is True
    assert linked["review"]["required_approvals"] == 2
    created = datetime.fromisoformat(linked["created_at"])
    assert datetime.fromisoformat(linked["deadline"]) <= created + timedelta(minutes=30)
    # an unrelated complaint is not
    other = c.post("/v1/drafts", json={"complaint": {"text": "My order KN-220145 is three days late", "channel": "email"}}).json()
    assert other["incident_id"] is None and other["review"]["required_approvals"] == 1
    assert c.get(f"/v1/incidents/{inc['id']}").json()["linked_count"] == outage + 1

    bob = reviewer(c, "bob")
    assert c.post(f"/v1/drafts/{linked['id']}/approve", json={"variant_id": "v1"}, headers=lead).json()["status"] == "pending_review"
    assert c.post(f"/v1/drafts/{linked['id']}/approve", json={"variant_id": "v1"}, headers=bob).json()["status"] == "approved"

    # resolving prepares a follow-up for the thread that got a reply, and only for it
    r = c.patch(f"/v1/incidents/{inc['id']}", headers=lead, json={
        "status": "resolved", "public_note": "Payments in the app work again; failed payments were not charged."})  # fmt: skip
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "resolved" and done["resolved_at"] and len(done["follow_ups"]) == 1
    fu = c.get(f"/v1/drafts/{done['follow_ups'][0]}").json()
    assert fu["kind"] == "follow_up" and fu["follows"] == linked["id"] and fu["incident_id"] == inc["id"]
    assert fu["complaint"]["channel"] == "twitter" and fu["status"] == "pending_review"
    assert all("work again" in v["text"] and v["rubric"]["criteria"] for v in fu["variants"])
    assert fu["review"]["required_approvals"] == 2
    c.post(f"/v1/drafts/{fu['id']}/approve", json={"variant_id": "v1"}, headers=lead)
    c.post(f"/v1/drafts/{fu['id']}/approve", json={"variant_id": "v1"}, headers=bob)

    # after resolution, new complaints are no longer linked
    late = c.post("/v1/drafts", json={"complaint": {"text": "checkout keeps failing in the kedai nusa app", "channel": "twitter"}}).json()
    assert late["incident_id"] is None

    report = c.get(f"/v1/incidents/{inc['id']}/report").json()
    assert report["complaints"]["linked"] == outage + 1
    assert report["minutes"]["first_complaint_to_alert"] is not None and report["minutes"]["first_complaint_to_alert"] <= 5
    assert report["follow_ups"] == {"prepared": 1, "approved_or_sent": 1, "threads_replied": 1, "threads_followed_up": 1}
    assert report["replies"]["approved_or_sent"] == 1
    if report["commitments"]["made"]:
        assert report["commitments"]["kept"] == report["commitments"]["made"]
    page = c.get(f"/v1/incidents/{inc['id']}/report", params={"format": "html"})
    assert page.status_code == 200 and "<img" in page.text and "data:image/png;base64," in page.text
    assert "checkout outage" in c.get(f"/v1/incidents/{inc['id']}/report", params={"format": "markdown"}).text

    r = c.post(f"/v1/incidents/{inc['id']}/recovery-post", headers=lead,
               json={"channel": "twitter", "what_changed": ["we added a second payment provider"]})  # fmt: skip
    assert r.status_code == 201, r.text
    post = r.json()
    assert post["kind"] == "recovery" and post["incident_id"] == inc["id"] and post["complaint"]["public"] is True
    assert any("second payment provider" in v["text"] for v in post["variants"])
    assert c.get(f"/v1/incidents/{inc['id']}").json()["recovery_posts"] == [post["id"]]

    # the same review from the command line, as files a comms lead opens
    env = {"TENANG_DATABASE__URL": services.settings.database.url}
    out = tmp_path / "review"
    r = CliRunner().invoke(app, ["report", "incident", inc["id"], "--out", str(out)], env=env)
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.iterdir()} == {"report.md", "report.html", "report.json", "volume.png", "replies.png"}
    assert "checkout outage" in (out / "report.md").read_text() and (out / "volume.png").read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(app, ["report", "incident", "nope", "--out", str(out)], env=env)
    assert r.exit_code == 1 and r.output.strip() == "error: no incident with id 'nope'"


def test_crisis_errors_are_problems(crisis_client: TestClient) -> None:
    c = crisis_client
    r = c.post("/v1/incidents", json={"title": "x", "issue_types": ["no_such_type"]})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "no_such_type" in r.json()["detail"]
    assert c.post("/v1/incidents", json={"issue_types": ["service_outage"]}).status_code == 422  # no title
    r = c.post("/v1/incidents", json={"title": "x", "alert_id": "nope"})
    assert r.status_code == 404 and r.json()["type"].endswith("/alert-not-found")
    r = c.get("/v1/incidents/nope")
    assert r.status_code == 404 and r.json()["type"].endswith("/incident-not-found")
    inc = c.post("/v1/incidents", json={"title": "refund delays", "issue_types": ["refund_request"]}).json()
    assert c.patch(f"/v1/incidents/{inc['id']}", json={}).status_code == 422
    assert c.patch(f"/v1/incidents/{inc['id']}", json={"status": "fixed"}).status_code == 422
    r = c.patch(f"/v1/incidents/{inc['id']}", json={"status": "identified"}, headers={"If-Match": '"9"'})
    assert r.status_code == 412
    future = c.post("/v1/signals", json={"complaint": {"text": "app down", "channel": "twitter"}, "created_at": "2099-01-01T00:00:00Z"})
    assert future.status_code == 422 and "future" in future.json()["detail"]
    assert c.patch(f"/v1/incidents/{inc['id']}", json={"title": None}).status_code == 422
    assert c.patch(f"/v1/incidents/{inc['id']}", json={"title": "   "}).status_code == 422
    naive = c.post("/v1/signals", json={"complaint": {"text": "app down", "channel": "twitter"}, "created_at": "2026-03-02T10:00:00"})
    assert naive.status_code == 422  # an event time needs its time zone
    agent = {"Authorization": "Bearer " + create_key(c.app.state.services.store, name="agent", role=Role.agent,  # type: ignore[attr-defined]
                                                     now=datetime.now(UTC)).secret}  # fmt: skip
    assert c.post("/v1/incidents", json={"title": "x", "issue_types": ["service_outage"]}, headers=agent).status_code == 403


def test_two_workers_see_one_stream_and_a_late_signal_still_counts(tmp_path, embedder: Embedder) -> None:  # type: ignore[no-untyped-def]
    """Two app processes on one database (as with `tenang serve --workers 2`): each worker's detector takes
    in the signals the other stored, the alert is stored once, and an incident opened through one worker
    links complaints drafted through the other. A signal delivered late still counts at its event time."""
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp_path}/w.db"}, chroma={"path": tmp_path / "chroma"})
    a, b = make_client(settings, embedder), make_client(settings, embedder, ingest_pack=False)
    try:
        t0 = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
        # minutes 0, 1, 2 and 4 arrive in time, alternating workers; minute 3 arrives last (late)
        for i, (client, minute) in enumerate([(a, 0), (b, 1), (a, 2), (b, 4)]):
            signal(client, BURST[i], t0 + timedelta(minutes=minute))
        late = signal(a, BURST[4], t0 + timedelta(minutes=3))
        alerts_a, alerts_b = a.get("/v1/alerts").json()["items"], b.get("/v1/alerts").json()["items"]
        assert len(alerts_a) == 1 and alerts_a == alerts_b  # one burst, one alert, whichever worker found it
        first = min(datetime.fromisoformat(x["detected_at"]) for x in alerts_a)
        assert first <= t0 + timedelta(minutes=4)
        assert late["id"]

        inc = a.post("/v1/incidents", json={"title": "checkout outage", "issue_types": ["service_outage", "billing_error"],
                                            "alert_id": alerts_a[-1]["id"]}).json()  # fmt: skip
        assert inc["linked_count"] >= alerts_a[-1]["count"], inc  # at least the alert's own complaints
        d = b.post("/v1/drafts", json={"complaint": {"text": "kedai nusa error lagi?? checkout muter2 doang", "channel": "twitter"}}).json()
        assert d["incident_id"] == inc["id"], d["classification"]
        a.patch(f"/v1/incidents/{inc['id']}", json={"status": "resolved"})
        d2 = b.post("/v1/drafts", json={"complaint": {"text": "kedai nusa error lagi?? checkout muter2 doang", "channel": "twitter"}}).json()
        assert d2["incident_id"] is None  # worker b saw the resolution too
    finally:
        a.__exit__(None, None, None)
        b.__exit__(None, None, None)


def test_each_thread_gets_one_follow_up_per_status(crisis_client: TestClient) -> None:
    c = crisis_client
    note = "The Kedai Nusa app crashes at the payment step for some customers; we're working on a fix."
    inc = c.post("/v1/incidents", json={"title": "payment crashes", "issue_types": ["service_outage", "billing_error"],
                                        "public_note": note}).json()  # fmt: skip
    d = c.post("/v1/drafts", json={"complaint": {"text": "The Kedai Nusa app crashes at the payment step for me", "channel": "chat"}}).json()
    assert d["incident_id"] == inc["id"], d["classification"]
    assert d["review"]["required_approvals"] == 1  # a private channel keeps its tier
    c.post(f"/v1/drafts/{d['id']}/approve", json={"variant_id": "v1"})
    counts = []
    for status in ("identified", "monitoring", "identified", "resolved"):
        counts.append(len(c.patch(f"/v1/incidents/{inc['id']}", json={"status": status}).json()["follow_ups"]))
    assert counts == [1, 2, 2, 3]  # back to identified: that thread was told already
    resolved = c.get(f"/v1/incidents/{inc['id']}").json()
    again = c.patch(f"/v1/incidents/{inc['id']}", json={"status": "resolved"}).json()
    assert again["resolved_at"] == resolved["resolved_at"] and len(again["follow_ups"]) == 3


def test_an_incident_titled_in_both_languages_links_and_speaks_both(crisis_client: TestClient) -> None:
    c = crisis_client
    inc = c.post("/v1/incidents", json={"title": "promo code failure", "titles": {"id": "kode promo tidak berlaku"},
                                        "issue_types": ["billing_error", "service_outage", "refund_request"]}).json()  # fmt: skip
    assert inc["titles"] == {"id": "kode promo tidak berlaku"}
    d = c.post("/v1/drafts", json={"complaint": {"text": "kode promo kedai nusa tidak berlaku, gak bisa dipakai", "channel": "chat"}}).json()
    assert d["incident_id"] == inc["id"], d["classification"]
    assert any("kode promo tidak berlaku" in v["text"] for v in d["variants"]), [v["text"] for v in d["variants"]]
    assert c.patch(f"/v1/incidents/{inc['id']}", json={"titles": {"xx": "nope"}}).status_code == 422
    c.patch(f"/v1/incidents/{inc['id']}", json={"status": "resolved"})


def test_a_second_alert_about_the_story_is_attached_and_its_complaints_linked(crisis_client: TestClient) -> None:
    """The same rumour alerted twice, once in English and once in Indonesian: the incident opened from the
    first takes the second, links its complaints and from then on links complaints worded like them."""
    from service.incidents.models import AlertRecord

    c = crisis_client
    store = c.app.state.services.store  # type: ignore[attr-defined]
    t1 = datetime.now(UTC) - timedelta(hours=10)  # the backfill looks 24 hours back from the newest signal
    english = ["is it true kedai nusa sells fake eggs? saw a video", "kedai nusa fake eggs video going viral, is it real?"]
    indonesian = ["beneran kedai nusa jual telur palsu? videonya viral", "katanya telur di kedai nusa palsu ya, heboh di tiktok"]
    # hours apart: recorded, not a spike; the two alerts are written as the detector would store them
    ids = [signal(c, text, t1 + timedelta(hours=2 * i), "tiktok")["id"] for i, text in enumerate(english + indonesian)]

    def alert(name: str, events: list[str], texts: list[str]) -> str:
        at = t1 + timedelta(hours=8)
        store.add_alert(AlertRecord(id=name, issue_type="misinformation", topic=texts[-1], window_start=at - timedelta(minutes=15),
                                    detected_at=at, count=len(events), baseline=0.01, p_value=1e-5, samples=texts, event_ids=events))  # fmt: skip
        return name

    first, second = alert("rumour-en", ids[:2], english), alert("rumour-id", ids[2:], indonesian)
    lead = reviewer(c, "lead-2")
    inc = c.post("/v1/incidents", headers=lead, json={"title": "fake egg rumour", "alert_id": first, "issue_types": ["misinformation"]}).json()
    assert inc["alert_ids"] == [first] and inc["linked_count"] == 2, inc
    r = c.post(f"/v1/incidents/{inc['id']}/alerts", headers=lead, json={"alert_id": second})
    assert r.status_code == 200, r.text
    joined = r.json()
    assert joined["alert_ids"] == [first, second] and joined["linked_count"] == 4
    assert joined["version"] == inc["version"] + 1 and "alert rumour-id attached" in joined["timeline"][-1]["what"]
    assert {a["id"]: a["incident_id"] for a in c.get("/v1/alerts").json()["items"]}[second] == inc["id"]
    assert c.post(f"/v1/incidents/{inc['id']}/alerts", headers=lead, json={"alert_id": second}).json()["version"] == joined["version"]
    d = c.post("/v1/drafts", json={"complaint": {"text": "beneran kedai nusa jual telur palsu? serem", "channel": "tiktok"}}).json()
    assert d["incident_id"] == inc["id"], d["classification"]

    other = c.post("/v1/incidents", headers=lead, json={"title": "another", "issue_types": ["misinformation"]}).json()
    taken = c.post(f"/v1/incidents/{other['id']}/alerts", headers=lead, json={"alert_id": second})
    assert taken.status_code == 409 and inc["id"] in taken.json()["detail"]
    assert c.post(f"/v1/incidents/{other['id']}/alerts", headers=lead, json={"alert_id": "nope"}).status_code == 404
    assert c.post(f"/v1/incidents/{other['id']}/alerts", headers=lead, json={}).status_code == 422
    for ident in (inc["id"], other["id"]):
        c.patch(f"/v1/incidents/{ident}", headers=lead, json={"status": "resolved"})
    closed = c.post(f"/v1/incidents/{inc['id']}/alerts", headers=lead, json={"alert_id": "rumour-x"})
    assert closed.status_code == 409 and "resolved" in closed.json()["detail"]
