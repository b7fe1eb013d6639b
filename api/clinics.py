"""The clinic API: each clinic, by its own bearer token, requests and downloads its documents.

Another clinic's job or document answers exactly like a missing one (404, same body), so ids
reveal nothing about who else uses the service.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.documents import MEDIA_TYPES
from api.jsonbody import BoundedJSONRoute
from api.models import DocumentRequest, ErrorBody, JobCreated, JobStatus
from api.records import JobRecord
from api.state import AppState
from generator.content.tree import ContentTree
from generator.errors import ContentError
from generator.plan.documents import DocumentKey

router = APIRouter(tags=["clinics"], route_class=BoundedJSONRoute)
bearer = HTTPBearer(auto_error=False, description="The clinic's token (carepress token create)")
NOT_FOUND = {"detail": "not found"}
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"model": ErrorBody}}


class Unauthorized(Exception):
    """Answered 401 with a WWW-Authenticate challenge (see api.app)."""


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.carepress
    return state


def clinic_of(request: Request,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """The clinic the token belongs to; the only source of the clinic for every request."""
    if credentials is None or len(credentials.credentials) > 200:
        raise Unauthorized
    clinic = _state(request).tokens.clinic_for(credentials.credentials)
    if clinic is None:
        raise Unauthorized
    return clinic


Clinic = Annotated[str, Depends(clinic_of)]


@router.post("/v1/documents", status_code=202, response_model=JobCreated,
             responses={**UNAUTHORIZED, 422: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def request_document(body: DocumentRequest, clinic: Clinic, request: Request) -> JSONResponse:
    """Ask for one of your documents (made current if its content changed). Poll the job."""
    state = _state(request)
    try:
        problem = _unavailable(state.view.tree(), clinic, body, state.settings.language_codes)
    except ContentError:
        return JSONResponse({"detail": "content is being repaired; try again later"}, 503)
    if problem:
        return JSONResponse({"detail": problem}, 422)
    job = secrets.token_urlsafe(16)
    document = DocumentKey(body.kind, clinic=clinic, therapy=body.therapy, lang=body.lang).id
    state.records.put(job, JobRecord(clinic=clinic, document=document, format=body.format,
                                     status="queued", instance=state.instance))
    state.pipeline.request_build(JobRecord.key(job))
    return JSONResponse({"job_id": job}, 202)


def _unavailable(tree: ContentTree, clinic: str, body: DocumentRequest,
                 languages: tuple[str, ...]) -> str | None:
    entry = tree.clinics.get(clinic)
    if entry is None:
        return "your clinic is not in the content"
    if body.therapy not in entry.therapies:
        return f"your clinic does not offer {body.therapy!r}"
    if body.lang not in languages:
        return f"language {body.lang!r} is not published (one of: {', '.join(languages)})"
    return None


@router.get("/v1/jobs/{job_id}", response_model=JobStatus,
            responses={**UNAUTHORIZED, 404: {"model": ErrorBody}})
def job_status(job_id: str, clinic: Clinic, request: Request) -> JSONResponse:
    state = _state(request)
    record = _own_record(state, job_id, clinic)
    if record is None:
        return JSONResponse(NOT_FOUND, 404)
    status, error, document_id = record.status, record.error, None
    if status in ("queued", "running") and record.instance != state.instance:
        status, error = "failed", "the server restarted before this job ran; request it again"
    if status == "done":
        entry = state.documents.entry_for(clinic, record.document, record.format)
        if entry is None:
            status, error = "failed", "the document was not published"
        else:
            document_id = state.documents.document_id(clinic, entry.path)
    return JSONResponse(JobStatus(id=job_id, status=status, document_id=document_id,
                                  error=error).model_dump())


def _own_record(state: AppState, job_id: str, clinic: str) -> JobRecord | None:
    if len(JobRecord.key(job_id)) > 100:
        return None
    record = state.records.get(JobRecord, job_id)
    return record if record is not None and record.clinic == clinic else None


@router.get("/v1/documents/{document_id}",
            responses={**UNAUTHORIZED, 404: {"model": ErrorBody}, 200: {
                "content": {"application/pdf": {}, "text/html": {}},
                "description": "The file; its ETag is its SHA-256."}})
def download(document_id: str, clinic: Clinic, request: Request) -> Response:
    state = _state(request)
    for _attempt in range(3):  # a build may replace the file between manifest and read
        entry = state.documents.find(clinic, document_id) if len(document_id) < 100 else None
        if entry is None:
            break
        data = state.documents.read(entry)
        if data is not None:
            etag = f'"{entry.sha256}"'
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers={"ETag": etag})
            return Response(data, media_type=MEDIA_TYPES[entry.format], headers={
                "ETag": etag, "Cache-Control": "private, no-cache"})
    return JSONResponse(NOT_FOUND, 404)
