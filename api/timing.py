"""`Server-Timing: app;dur=<ms>` on every answer: the server's own time, from the moment the
application receives a request until it sends the response start, so a client can tell the
server's time from the network's.

A pure ASGI middleware: Starlette's BaseHTTPMiddleware runs each request through extra tasks
and memory streams, which would cost more than most of what it measures."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
                headers = [*message.get("headers", ()), (b"server-timing", took.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed)
