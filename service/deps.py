"""``Annotated`` dependency aliases; the objects themselves are built once in ``main.lifespan``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from service.auth.keys import ANONYMOUS_ADMIN, Principal, Role, authenticate
from service.drafting.pipeline import DraftingPipeline
from service.incidents.service import CrisisService
from service.review.service import ReviewService
from service.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_pipeline(request: Request) -> DraftingPipeline:
    return get_services(request).pipeline


def get_review(request: Request) -> ReviewService:
    return get_services(request).review


def get_crisis(request: Request) -> CrisisService:
    return get_services(request).crisis


def get_principal(request: Request) -> Principal:
    services = get_services(request)
    if services.settings.auth.disabled:
        return ANONYMOUS_ADMIN
    header = request.headers.get("authorization", "")
    secret = header[7:] if header.lower().startswith("bearer ") else request.headers.get("x-api-key")
    return authenticate(services.store, secret)


def require(role: Role) -> Callable[[Principal], Principal]:
    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(role)
        return principal

    return dependency


ServicesDep = Annotated[Services, Depends(get_services)]
PipelineDep = Annotated[DraftingPipeline, Depends(get_pipeline)]
ReviewDep = Annotated[ReviewService, Depends(get_review)]
CrisisDep = Annotated[CrisisService, Depends(get_crisis)]
AgentDep = Annotated[Principal, Depends(require(Role.agent))]
ReviewerDep = Annotated[Principal, Depends(require(Role.reviewer))]
AdminDep = Annotated[Principal, Depends(require(Role.admin))]
