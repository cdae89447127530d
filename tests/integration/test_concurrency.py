"""Reliability against a real running server (two worker processes sharing one database, a Chroma
server for retrieval), on SQLite and on PostgreSQL:

- 50 concurrent approvals spread over 10 drafts: exactly 10 succeed, 40 conflict, the audit verifies;
- SIGKILL of the server while approvals are in flight: every draft is wholly in its old state or wholly
  in its new one, none is lost, and the audit trail still verifies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from service.adapters.sql_store import SqlStore
from service.auth.keys import Role, create_key
from service.models import DraftStatus
from service.review.audit import verify
from service.review.queue import DraftFilter
from tests.integration.test_chroma_server import start_chroma
from tests.llm_server import free_port
from tests.pg import fresh_database

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
COMPLAINTS = [
    "My order KN-{n:06d} is two days late and the tracking hasn't moved.",
    "Pesanan KN-{n:06d} belum sampai juga padahal jadwalnya kemarin.",
]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_chroma(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


class Server:
    def __init__(self, db_url: str, chroma_url: str, workdir: Path) -> None:
        self.db_url, self.port = db_url, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TENANG_", "OPENAI_"))}
        env |= {"TENANG_DATABASE__URL": db_url, "TENANG_CHROMA__URL": chroma_url, "TENANG_LOG_LEVEL": "WARNING"}
        self.log = workdir / "server.log"
        self._log_file = self.log.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "tenang"), "serve", "--workers", "2", "--port", str(self.port)],
            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=self._log_file, start_new_session=True,
        )  # fmt: skip
        deadline, ready = time.time() + 120, 0
        while ready < 4:  # both workers answer
            if time.time() > deadline or self.proc.poll() is not None:
                self.kill()
                raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")
            try:
                ready = ready + 1 if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200 else 0
            except httpx.HTTPError:
                ready = 0
            time.sleep(0.25)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self._log_file.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, chroma_url: str) -> Iterator[dict]:  # type: ignore[type-arg]
    workdir = tmp_path_factory.mktemp(f"server-{request.param}")
    if request.param == "sqlite":
        ctx = None
        db_url = f"sqlite:///{workdir}/tenang.db"
    else:
        ctx = fresh_database()
        db_url = ctx.__enter__()
    store = SqlStore(db_url)
    now = datetime.now(UTC)
    admin = create_key(store, name="admin", role=Role.admin, now=now)
    reviewers = [create_key(store, name=f"reviewer-{i}", role=Role.reviewer, now=now) for i in range(5)]
    server = Server(db_url, chroma_url, workdir)
    try:
        yield {"kind": request.param, "server": server, "store": store, "admin": admin, "reviewers": reviewers}
    finally:
        server.kill()
        store.engine.dispose()
        if ctx is not None:
            ctx.__exit__(None, None, None)


def _drafts(server: Server, admin_secret: str, n: int, start: int) -> list[str]:
    ids = []
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin_secret}"}, timeout=30) as c:
        for i in range(start, start + n):
            body = {"complaint": {"text": COMPLAINTS[i % 2].format(n=100000 + i), "channel": "chat"}}
            r = c.post("/v1/drafts", json=body)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
    return ids


def _approve_all(
    server: Server, jobs: list[tuple[str, str]], *, timeout: float = 30, together: bool = True, workers: int = 50
) -> list[int | str]:
    barrier = threading.Barrier(len(jobs)) if together else None

    def one(job: tuple[str, str]) -> int | str:
        draft_id, secret = job
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=timeout) as c:
            if barrier is not None:
                barrier.wait()
            try:
                return c.post(f"/v1/drafts/{draft_id}/approve", json={"variant_id": "v1"}).status_code
            except httpx.HTTPError as exc:
                return exc.__class__.__name__

    with ThreadPoolExecutor(max_workers=min(len(jobs), workers)) as pool:
        return list(pool.map(one, jobs))


def test_fifty_concurrent_approvals_over_ten_drafts(setup: dict) -> None:  # type: ignore[type-arg]
    server, store = setup["server"], setup["store"]
    ids = _drafts(server, setup["admin"].secret, 10, start=0)
    jobs = [(d, r.secret) for d in ids for r in setup["reviewers"]]  # 5 reviewers race on each draft
    statuses = Counter(_approve_all(server, jobs))
    print(f"\n[{setup['kind']}] 50 concurrent approvals over 10 drafts: {dict(statuses)}")
    assert statuses == Counter({200: 10, 409: 40})
    drafts = [store.get(d) for d in ids]
    assert all(d is not None and d.status == DraftStatus.approved and d.version == 2 for d in drafts)
    assert all(len(d.review.approvals) == 1 for d in drafts)  # type: ignore[union-attr]
    approvals = [e for e in store.audit() if e.action == "approved" and e.draft_id in ids]
    assert len(approvals) == 10
    result = verify(store.audit(), head=store.audit_head())
    print(f"[{setup['kind']}] {result.summary()}")
    assert result.ok


def test_a_crash_mid_approval_leaves_every_draft_whole(setup: dict) -> None:  # type: ignore[type-arg]
    server, store = setup["server"], setup["store"]
    ids = _drafts(server, setup["admin"].secret, 30, start=100)
    before = store.list(DraftFilter(limit=1)).total
    approved_before = store.list(DraftFilter(status="approved", limit=1)).total
    jobs = [(d, r.secret) for r in setup["reviewers"][:3] for d in ids]  # 90 approvals, 3 per draft
    results: list[int | str] = []
    # a steady stream from a few clients, so the kill lands while approvals are still arriving (with 50 at
    # once, a busy machine could finish all 30 drafts before the watcher below saw the first three)
    runner = threading.Thread(target=lambda: results.extend(_approve_all(server, jobs, timeout=10, together=False, workers=4)))
    runner.start()
    deadline = time.time() + 30
    while time.time() < deadline:  # kill once some approvals have committed and others are in flight
        if store.list(DraftFilter(status="approved", limit=1)).total - approved_before >= 3:
            break
        time.sleep(0.005)
    server.kill()
    runner.join(timeout=60)
    approved = pending = 0
    for d in (store.get(i) for i in ids):
        assert d is not None  # nothing lost
        events = [e.action for e in store.audit(d.id)]
        if d.status == DraftStatus.approved:
            approved += 1
            assert d.version == 2 and len(d.review.approvals) == 1 and events.count("approved") == 1
        else:
            pending += 1
            assert d.status == DraftStatus.pending_review and d.version == 1 and not d.review.approvals
            assert "approved" not in events
    assert store.list(DraftFilter(limit=1)).total == before
    result = verify(store.audit(), head=store.audit_head())
    outcome = Counter(results)
    print(f"\n[{setup['kind']}] SIGKILL with 90 approvals over 30 drafts in flight: responses {dict(outcome)}; "
          f"{approved} drafts approved, {pending} still pending; {result.summary()}")  # fmt: skip
    assert result.ok
    assert approved >= 3 and pending >= 1  # the kill really came mid-way
