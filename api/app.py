"""The FastAPI application: `create_app(settings)` builds everything a process holds."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api import clinics, webhooks
from api.models import Health
from api.state import AppState, make_state
from api.timing import ServerTiming
from generator import __version__
from generator.errors import ContentError
from generator.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """Raises ValueError on a bad setting, before anything listens."""
    state = make_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.pipeline.start()
        with suppress(ContentError):  # parse the tree now, not on the first webhook
            state.view.tree()
        # Everything loaded so far lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise stall a request now and then for tens of ms.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            state.pipeline.stop(grace=settings.stop_timeout)
            state.save()

    app = FastAPI(title="carepress", version=__version__, lifespan=lifespan,
                  description="CMS webhooks that regenerate exactly the documents depending on "
                              "a change, and the clinic API for branded documents.")
    app.state.carepress = state
    app.include_router(webhooks.router)
    app.include_router(clinics.router)
    app.add_api_route("/healthz", healthz, methods=["GET"], response_model=Health,
                      tags=["health"])
    app.add_api_route("/readyz", readyz, methods=["GET"], response_model=Health,
                      tags=["health"], responses={503: {"model": Health}})
    app.add_exception_handler(clinics.Unauthorized, _unauthorized)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    # Outermost of the app's middleware (only Starlette's last-resort 500 handler is outside).
    app.add_middleware(ServerTiming)
    return app


async def _unauthorized(request: Request, exc: clinics.Unauthorized) -> JSONResponse:
    return JSONResponse({"detail": "not authenticated"}, 401,
                        headers={"WWW-Authenticate": "Bearer"})


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [_problem(error) for error in exc.errors()]
    return JSONResponse({"detail": "invalid request", "problems": problems}, 422)


def _problem(error: Any) -> dict[str, Any]:
    if error["type"] == "json_invalid":  # the parser's own reason (api.jsonbody), not its position
        reason = str((error.get("ctx") or {}).get("error") or error["msg"])
        return {"file": "request", "field": "body", "message": reason, "line": None}
    if tuple(error["loc"]) == ("body",) and isinstance(error.get("input"), bytes):
        return {"file": "request", "field": "body", "line": None,
                "message": "expected a JSON object (Content-Type: application/json)"}
    return {"file": "request", "field": ".".join(str(p) for p in error["loc"]),
            "message": str(error["msg"]).removeprefix("Value error, "), "line": None}


def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


def readyz(request: Request) -> JSONResponse:
    """The broker (when configured), the content tree and the output folder are reachable."""
    state: AppState = request.app.state.carepress
    checks = {"broker": _check(lambda: state.records.ping()) if state.queued else "embedded",
              "content": _check(lambda: state.view.tree()),
              "store": _check(lambda: _writable(state.settings))}
    ready = all(value in ("ok", "embedded") for value in checks.values())
    body = Health(status="ready" if ready else "unready", checks=checks)
    return JSONResponse(body.model_dump(), 200 if ready else 503)


def _check(probe: Callable[[], object]) -> str:
    try:
        probe()
    except ContentError as exc:
        return f"invalid: {len(exc.problems)} problems"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _writable(settings: Settings) -> None:
    folder = settings.out_dir if settings.out_dir.exists() else settings.out_dir.parent
    if not os.access(folder, os.W_OK):
        raise PermissionError(str(folder))
