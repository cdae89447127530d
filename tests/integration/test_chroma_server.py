"""TENANG_CHROMA__URL selects a Chroma server: a real `chroma run` on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from service.config import Settings
from service.ports import Embedder
from tests.conftest import make_client
from tests.llm_server import free_port

pytestmark = pytest.mark.integration


@contextmanager
def start_chroma(path: Path) -> Iterator[str]:
    """A real `chroma run` on 127.0.0.1 with its data under path; yields its URL."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("the Chroma server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with start_chroma(tmp_path / "server") as url:
        yield url


def test_drafting_retrieves_from_a_chroma_server(tmp_path: Path, embedder: Embedder, chroma_url: str) -> None:
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp_path}/t.db"}, chroma={"url": chroma_url})
    client = make_client(settings, embedder)
    try:
        assert client.get("/readyz").json()["checks"]["vector_store"]["status"] == "ok"
        d = client.post("/v1/drafts", json={"complaint": {"text": "I was charged twice for one order", "channel": "email"}}).json()
        assert d["retrieval_error"] is None and any(s["kind"] == "policy" for s in d["sources"])
    finally:
        client.__exit__(None, None, None)
    assert not (tmp_path / "chroma").exists()  # nothing was written to the default on-disk store
