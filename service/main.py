"""The application factory. Nothing happens at import time: ``create_app()`` builds the app, and its
lifespan builds the adapters once from Settings (or takes the ones a test passes in)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import __version__
from service.config import Settings
from service.errors import install_handlers
from service.logging import configure_logging, request_id_var
from service.services import build_services

log = logging.getLogger(__name__)


class RequestContextMiddleware:
    """Stamps a request id on every request (X-Request-ID) and refuses bodies over the size limit."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app, self.max_body = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:100] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode("latin-1")))
            await send(message)

        try:
            length = headers.get(b"content-length")
            too_big = length is not None and length.isdigit() and int(length) > self.max_body
            if not too_big and length is None and scope["method"] in ("POST", "PUT", "PATCH"):
                body, chunks, more = 0, [], True
                while more:
                    msg = await receive()
                    chunks.append(msg)
                    body += len(msg.get("body", b""))
                    more = msg.get("more_body", False)
                    if body > self.max_body:
                        too_big = True
                        break
                if not too_big:
                    replay = iter(chunks)

                    async def receive_again() -> Message:
                        return next(replay, {"type": "http.disconnect"})

                    receive = receive_again
            if too_big:
                await self._too_large(scope, send_with_id, rid)
                return
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)

    async def _too_large(self, scope: Scope, send: Send, rid: str) -> None:
        import json

        body = json.dumps(
            {
                "type": "https://tenang.dev/problems/payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"The request body is larger than {self.max_body} bytes.",
                "instance": scope.get("path"),
                "request_id": rid,
            }
        ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """Build the app. ``overrides`` (embedder, index, store, chat, clock) replace adapters in tests."""
    settings = settings or Settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = build_services(settings, **overrides)
        if settings.auth.disabled:
            log.warning("TENANG_AUTH__DISABLED is set: every call acts as an anonymous admin; never do this in production")
        yield

    app = FastAPI(
        title="Tenang",
        version=__version__,
        description="Calm, transparent replies to customer complaints, checked against a tone rubric "
        "and held for human approval.",
        lifespan=lifespan,
    )
    install_handlers(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)

    from service import health
    from service.auth.router import router as keys_router
    from service.drafting.router import router as drafting_router
    from service.incidents.router import router as incidents_router
    from service.knowledge.router import router as knowledge_router
    from service.review.router import router as review_router
    from service.tone.router import router as tone_router

    for r in (health.router, review_router, drafting_router, tone_router, knowledge_router, keys_router,
              incidents_router):
        app.include_router(r)
    return app
