"""POST /v1/signals, GET /v1/alerts, /v1/incidents (create, change, read, attach an alert, report, recovery post)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import HTMLResponse, PlainTextResponse

from service.deps import AgentDep, CrisisDep, ReviewerDep, ServicesDep
from service.drafting.schemas import DraftRead
from service.errors import InvalidInput
from service.incidents.models import Incident
from service.incidents.schemas import (
    AlertAttach, AlertPage, AlertRead, IncidentCreate, IncidentPage, IncidentPatch, IncidentRead, RecoveryRequest, SignalCreate,
    SignalRead,
)  # fmt: skip
from service.incidents.service import CrisisService
from service.review.service import ETAG_RE

router = APIRouter(prefix="/v1", tags=["crisis"])
IfMatch = Annotated[str | None, Header(alias="If-Match", description='The incident version you saw, e.g. "2".')]


def _read(crisis: CrisisService, incident: Incident, response: Response | None = None) -> IncidentRead:
    if response is not None:
        response.headers["ETag"] = f'"{incident.version}"'
    return IncidentRead(**incident.model_dump(), linked_count=crisis.linked_count(incident.id))


@router.post("/signals", status_code=status.HTTP_201_CREATED, response_model=SignalRead)
def record_signal(body: SignalCreate, crisis: CrisisDep, services: ServicesDep, _: AgentDep) -> SignalRead:
    """Record a complaint that needs no reply (a mention, a review): classified, linked to an open incident
    when it belongs to one, and counted by the spike detector at its event time ``created_at``."""
    complaint = body.complaint.to_domain(services.pipeline.public_channels)
    signal, alerts = crisis.signal(complaint, body.context, at=body.created_at)
    return SignalRead(**signal.model_dump(exclude={"embedding", "text", "received_at", "draft_id", "public"}),
                      alerts=[a.id for a in alerts])  # fmt: skip


@router.get("/alerts", response_model=AlertPage)
def list_alerts(crisis: CrisisDep, _: AgentDep, since: datetime | None = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> AlertPage:  # fmt: skip
    """Spike alerts, newest first (``since``: detected at or after, in event time)."""
    return AlertPage(items=[AlertRead.of(a) for a in crisis.alerts(since=since, limit=limit)])


@router.post("/incidents", status_code=status.HTTP_201_CREATED, response_model=IncidentRead)
def create_incident(body: IncidentCreate, crisis: CrisisDep, who: ReviewerDep, response: Response) -> IncidentRead:
    """Open an incident (from an alert with ``alert_id``). Recent complaints that belong to it are linked,
    and from now on matching complaints are linked and drafted with its facts, in crisis mode."""
    incident = crisis.create(who, **body.model_dump())
    response.headers["Location"] = f"/v1/incidents/{incident.id}"
    return _read(crisis, incident, response)


@router.get("/incidents", response_model=IncidentPage)
def list_incidents(crisis: CrisisDep, _: AgentDep, open_only: bool = False) -> IncidentPage:
    return IncidentPage(items=[_read(crisis, i) for i in crisis.store.incidents(open_only=open_only)])


@router.get("/incidents/{incident_id}", response_model=IncidentRead)
def get_incident(incident_id: str, crisis: CrisisDep, _: AgentDep, response: Response) -> IncidentRead:
    return _read(crisis, crisis.get(incident_id), response)


@router.patch("/incidents/{incident_id}", response_model=IncidentRead)
def change_incident(incident_id: str, body: IncidentPatch, crisis: CrisisDep, who: ReviewerDep, response: Response,
                    if_match: IfMatch = None) -> IncidentRead:  # fmt: skip
    """Change the status or notes. Moving to identified, monitoring or resolved prepares a follow-up draft
    for every linked thread that received a reply (see ``follow_ups``)."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("send at least one of status, title, issue_types, at_fault, public_note, holding_statement")
    version = None
    if if_match is not None:
        m = ETAG_RE.match(if_match)
        if not m:
            raise InvalidInput("If-Match must be an incident version such as '\"2\"'")
        version = int(m.group(1))
    return _read(crisis, crisis.update(incident_id, who, changes=changes, if_match=version), response)


@router.post("/incidents/{incident_id}/alerts", response_model=IncidentRead)
def attach_alert(incident_id: str, body: AlertAttach, crisis: CrisisDep, who: ReviewerDep, response: Response) -> IncidentRead:
    """Attach another alert about this open incident (the same story in another language, a second
    wave): its complaints are linked and become references, and the recent complaints that match them too."""
    return _read(crisis, crisis.attach_alert(incident_id, who, body.alert_id), response)


@router.post("/incidents/{incident_id}/recovery-post", status_code=status.HTTP_201_CREATED, response_model=DraftRead)
def recovery_post(incident_id: str, body: RecoveryRequest, crisis: CrisisDep, who: ReviewerDep) -> DraftRead:
    """Draft a public "what happened and what we changed" post from the incident record, through the same
    rubric and approval gate (kind ``recovery``)."""
    draft = crisis.recovery_post(incident_id, who, channel=body.channel, language=body.language,
                                 what_changed=body.what_changed)  # fmt: skip
    return DraftRead.model_validate(draft.model_dump())


@router.get("/incidents/{incident_id}/report", response_model=None)
def incident_report(incident_id: str, crisis: CrisisDep, _: AgentDep,
                    format: Annotated[str, Query(pattern="^(json|markdown|html)$")] = "json") -> object:  # fmt: skip
    """The post-incident review: timeline, volume against baseline, response times, deadlines, rubric
    scores, reviewer edits and rejections, commitments kept. ``format``: json, markdown or html (charts
    embedded)."""
    from service.incidents import report

    data = report.build(crisis.store, crisis.crisis, incident_id, now=crisis.clock.now())
    if format == "markdown":
        return PlainTextResponse(report.markdown(data), media_type="text/markdown")
    if format == "html":
        return HTMLResponse(report.html(data, report.charts(data)))
    return data
