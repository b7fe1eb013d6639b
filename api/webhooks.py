"""POST /v1/webhooks/cms: bounded, authenticated, deduplicated, validated, then queued."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.cms import Ignored, PayloadError, normalize
from api.content import ChangeRefused, check_entry
from api.jsonbody import BodyError, parse_json
from api.models import BatchStatus, ErrorBody, GenericWebhook, WebhookAccepted, WebhookAcknowledged
from api.records import BatchRecord, delivery_key
from api.signatures import Rejected, Verified, verify_contentful, verify_standard, verify_strapi
from api.state import AppState
from generator.content.changes import Change
from generator.errors import ContentError, Problem

log = logging.getLogger("carepress.api")
router = APIRouter(tags=["webhooks"])


class BodyTooLarge(Exception):
    pass


async def read_bounded(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed `limit`: by its Content-Length before
    reading anything, and by counting while reading (a chunked body has no length)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _problems(problems: list[Problem]) -> list[dict[str, Any]]:
    return [{"file": p.file, "field": p.field, "message": p.message, "line": p.line}
            for p in problems]


@router.post(
    "/v1/webhooks/cms", status_code=202, response_model=WebhookAccepted,
    summary="A CMS published or unpublished an entry",
    responses={200: {"model": WebhookAcknowledged}, 401: {"model": ErrorBody},
               413: {"model": ErrorBody}, 422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": GenericWebhook.model_json_schema()}}}},
)
async def cms_webhook(request: Request) -> JSONResponse:
    """Signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`),
    Contentful's request verification, or Strapi's shared-secret header. Answers 202 as soon as
    the change is validated and queued; rendering happens on the queue."""
    state: AppState = request.app.state.carepress
    try:
        body = await read_bounded(request, state.settings.max_body_bytes)
    except BodyTooLarge:
        return _answer(413, {"detail": f"body over {state.settings.max_body_bytes} bytes"})
    headers = {k.lower(): v for k, v in request.headers.items()}
    # Run on the event loop, not in a worker thread: the work is a few milliseconds of CPU
    # with sub-millisecond Redis calls on a local connection, and handing it to a thread
    # costs more under load (every hop waits for the GIL behind busy threads).
    return handle(state, request.method, request.url.path, headers, body)


def handle(state: AppState, method: str, path: str, headers: dict[str, str],
           body: bytes) -> JSONResponse:
    now = time.time()
    try:
        verified = authenticate(state, method, path, headers, body, now)
    except Rejected as exc:
        return _answer(401, {"detail": f"not authenticated: {exc}"})
    key = delivery_key(verified.delivery)
    if not state.records.claim(key, state.settings.dedupe_ttl):
        return _answer(200, {"status": "duplicate", "reason": "delivery already received"})
    try:
        response = _process(state, verified, headers, body, now, key)
    except BaseException:
        state.records.release(key)
        raise
    if response.status_code >= 400:
        state.records.release(key)  # not processed: a corrected redelivery must get through
    return response


def authenticate(state: AppState, method: str, path: str, headers: Mapping[str, str],
                 body: bytes, now: float) -> Verified:
    settings = state.settings
    if "webhook-signature" in headers:
        return verify_standard(headers, body, state.webhook_keys, now, settings.webhook_tolerance)
    if "x-contentful-signature" in headers:
        return verify_contentful(method, path, headers, body,
                                 settings.contentful_secret.get_secret_value(), now,
                                 settings.webhook_tolerance)
    strapi_secret = settings.strapi_secret.get_secret_value()
    if strapi_secret and settings.strapi_header.lower() in headers:
        return verify_strapi(headers, body, settings.strapi_header, strapi_secret)
    raise Rejected("no signature")


def _process(state: AppState, verified: Verified, headers: Mapping[str, str], body: bytes,
             now: float, delivery: str) -> JSONResponse:
    try:
        payload = parse_json(body)
        outcome = normalize(verified.scheme, payload, headers, state.settings,
                            state.cms_ids.known, now)
    except BodyError as exc:
        return _answer(422, {"detail": str(exc)})
    except PayloadError as exc:
        return _answer(422, {"detail": f"unexpected payload: {exc}"})
    except Rejected as exc:
        return _answer(401, {"detail": f"not authenticated: {exc}"})
    if isinstance(outcome, Ignored):
        log.info("webhook ignored: %s", outcome.reason)
        return _answer(200, {"status": "ignored", "reason": outcome.reason})
    return _accept(state, outcome, delivery)


def _accept(state: AppState, change: Change, delivery: str) -> JSONResponse:
    try:
        check_entry(change, state.settings.content_dir)
    except ContentError as exc:
        return _answer(422, {"detail": f"invalid {change.kind} {change.id!r}",
                             "problems": _problems(exc.problems)})
    batch = secrets.token_urlsafe(12)
    try:
        impact = state.view.accept(batch, change)
    except ChangeRefused as exc:
        return _answer(422, {"detail": f"{change.kind} {change.id!r} cannot be published",
                             "problems": _problems(exc.problems)})
    except ContentError as exc:
        return _answer(503, {"detail": "the content tree on disk is invalid; fix it first",
                             "problems": _problems(exc.problems)})
    if change.cms_id and change.data is not None:
        state.cms_ids.remember(change.cms_id, change.kind, change.id)
    if impact is None:
        return _answer(200, {"status": "unchanged", "reason": "the entry already says this"})
    # The delivery key goes with the batch: a batch the gate refuses forgets its delivery, so
    # the same delivery sent again once the tree allows it gets through.
    state.records.put(batch, BatchRecord(
        status="queued", documents=list(impact.render), removed=len(impact.remove),
        instance=state.instance, delivery=delivery))
    try:
        state.pipeline.accept(batch, change)
    except BaseException:
        state.view.settled([], {batch})
        raise
    log.info("accepted %s:%s as batch %s", change.kind, change.id, batch)
    return _answer(202, {"status": "accepted", "batch": batch,
                         "documents": len(impact.render), "removed": len(impact.remove)})


@router.get("/v1/batches/{batch_id}", response_model=BatchStatus,
            responses={404: {"model": ErrorBody}})
def batch_status(batch_id: str, request: Request) -> JSONResponse:
    """The progress of a webhook's regeneration. The batch id is an unguessable capability;
    the answer holds counts and content problems, no documents."""
    state: AppState = request.app.state.carepress
    record = state.records.get(BatchRecord, batch_id) if len(batch_id) < 100 else None
    if record is None:
        return _answer(404, {"detail": "not found"})
    # A batch accepted before a restart is still published: it was spooled.
    return _answer(200, BatchStatus(
        id=batch_id, status=record.status, documents=len(record.documents),
        built=record.built, removed=record.removed, held_back=record.held_back,
        error=record.error, problems=record.problems).model_dump())
