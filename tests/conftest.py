"""Shared fixtures: a clean environment, the embedding model loaded once, settings under tmp_path, and
an app client on real SQLite and Chroma with the sample pack ingested."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.auth.keys import Role, create_key
from service.config import PROJECT_ROOT, Settings
from service.knowledge.ingest import ingest
from service.knowledge.pack import Pack, load_pack
from service.main import create_app
from service.ports import Embedder

from tests.fakes import CachingEmbedder
from tests.llm_server import ScriptedLLM, ServerThread


@pytest.fixture(autouse=True, scope="session")
def clean_environ(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Nothing from the developer's shell (keys, endpoints, paths) may leak into a test; session-wide,
    so module-scoped apps are built in the clean environment too. Trained classifiers are cached in a
    temporary folder, never in the working tree."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith(("OPENAI_", "TENANG_")):
                mp.delenv(key)
        mp.setenv("TENANG_KNOWLEDGE__MODEL_CACHE", str(tmp_path_factory.mktemp("models")))
        yield


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2 on the service's default backend (ONNX Runtime), loaded once per test
    run and exported into the session's model cache, with a memo of texts already embedded."""
    from service.adapters.embedder import OnnxEmbedder

    return CachingEmbedder(OnnxEmbedder(cache_dir=Path(os.environ["TENANG_KNOWLEDGE__MODEL_CACHE"])))


@pytest.fixture(scope="session")
def pack() -> Pack:
    return load_pack(PROJECT_ROOT / "knowledge")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        database={"url": f"sqlite:///{tmp_path}/tenang.db"},
        chroma={"path": tmp_path / "chroma"},
    )


def make_client(
    settings: Settings, embedder: Embedder, *, ingest_pack: bool = True, role: Role | None = Role.admin,
    **overrides: object,
) -> TestClient:
    """A started app; its requests carry a new key of ``role`` (None: no key)."""
    app = create_app(settings, embedder=embedder, **overrides)
    client = TestClient(app)
    client.__enter__()
    services = app.state.services
    if role is not None:
        key = create_key(services.store, name=f"test-{role.value}", role=role, now=services.clock.now())
        client.headers["Authorization"] = f"Bearer {key.secret}"
    if ingest_pack and services.index is not None:
        ingest(services.pack, index=services.index, embedder=services.embedder)
    return client


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[TestClient]:
    """One app per test module (drafts are independent records; building an app trains the classifier)."""
    tmp = tmp_path_factory.mktemp("app")
    settings = Settings(_env_file=None, database={"url": f"sqlite:///{tmp}/tenang.db"}, chroma={"path": tmp / "chroma"})
    c = make_client(settings, embedder)
    try:
        yield c
    finally:
        c.__exit__(None, None, None)


@pytest.fixture
def llm() -> Iterator[tuple[ScriptedLLM, ServerThread]]:
    """A scripted OpenAI-compatible server on 127.0.0.1 for tests of the model path: (script, server)."""
    script = ScriptedLLM()
    with ServerThread(script.app()) as server:
        yield script, server
