"""``Annotated`` dependency aliases; the objects themselves are built once in ``main.lifespan``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.drafting.pipeline import DraftingPipeline
from service.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_pipeline(request: Request) -> DraftingPipeline:
    return get_services(request).pipeline


ServicesDep = Annotated[Services, Depends(get_services)]
PipelineDep = Annotated[DraftingPipeline, Depends(get_pipeline)]
