"""GET /healthz (the process answers) and GET /readyz (the store and the vector store answer)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import ServicesDep
from service.errors import UpstreamUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, dict[str, str]] = {}
    try:
        services.store.ping()
        checks["store"] = {"status": "ok"}
    except UpstreamUnavailable as exc:
        checks["store"] = {"status": "down", "detail": exc.detail}
    if services.index is None:
        checks["vector_store"] = {"status": "down", "detail": services.index_error or "not configured"}
    else:
        try:
            services.index.ping()
            checks["vector_store"] = {"status": "ok"}
        except UpstreamUnavailable as exc:
            checks["vector_store"] = {"status": "down", "detail": exc.detail}
    checks["llm"] = {"status": "configured" if services.chat else "not configured (playbook composer drafts)"}
    # Drafting still answers without the vector store (from the playbook alone), so an outage there is
    # reported as "degraded" and the service keeps taking traffic (200); without the store it cannot
    # keep a draft, so it is "unavailable" (503).
    store_ok = checks["store"]["status"] == "ok"
    degraded = any(c["status"] == "down" for c in checks.values())
    status = "unavailable" if not store_ok else ("degraded" if degraded else "ready")
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if store_ok else 503)
