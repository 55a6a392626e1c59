"""The web server's outer guard: an ASGI middleware in front of the JSON API and the mounted Gradio app.

It decides what it can before the app reads anything:
- body caps, counted as the bytes stream in (a chunked request has no Content-Length to trust): 413;
- staff endpoints check the token from the headers *before* their body is read (an anonymous upload is
  refused at once, holding no temporary file);
- Gradio events may carry file items only for files Gradio itself received in its upload folder (a chat
  history or any other input naming a server path is refused with 400), and Gradio serves files only from
  that folder; it never fetches a URL for a client (`file=http...`, `proxy=`).

Gradio checks file items only once `Blocks.has_launched` is set, which `gr.mount_gradio_app` never does:
this guard does not depend on that (the app sets it too, as a second line).
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

GRADIO_PREFIX = "/gradio_api"
STAFF_PATHS = ("/api/why", "/api/why-not", "/api/forget", "/api/index/rebuild", "/api/index/preview",
               "/api/index/switch", "/api/index/rollback", "/api/indexes", "/api/rules")
UPLOAD_PATHS = ("/api/index/rebuild", "/api/index/preview", GRADIO_PREFIX + "/upload")
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class BodyLimits:
    """Largest request bodies, in bytes."""

    api_json: int = 64 * 1024  # /api/* JSON (a 4,000-character message fits many times)
    gradio_event: int = 1024 * 1024  # a Gradio event's JSON (inputs of one click)
    upload: int = 200 * 1024 * 1024  # a catalog upload (staff only for the API; Gradio's upload route)


class RequestGuard:
    """ASGI middleware: body caps, staff token before body, file items and file serving limited to Gradio's
    own upload folder. `staff_check(token)` returns None when allowed, else (status, message)."""

    def __init__(self, app: ASGIApp, staff_check: Callable[[str | None], tuple[int, str] | None],
                 limits: BodyLimits = BodyLimits(), upload_dir: str | Path | None = None) -> None:
        self.app = app
        self.staff_check = staff_check
        self.limits = limits
        self.upload_dir = Path(upload_dir).resolve() if upload_dir is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refuse_early(path, headers)
        if refusal is not None:
            await _respond(send, *refusal)
            return
        limit = self._limit(path)
        if limit is None or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await _respond(send, 413, f"request body over {limit:,} bytes")
            return
        if path in UPLOAD_PATHS:
            await self._stream_capped(scope, receive, send, limit)
            return
        body = await _read_capped(receive, limit)
        if body is None:
            await _respond(send, 413, f"request body over {limit:,} bytes")
            return
        if not path.startswith("/api/"):  # every Gradio route, whatever its prefix or alias
            problem = self._foreign_file_item(body)
            if problem:
                await _respond(send, 400, problem)
                return
        await self.app(scope, _replay(body, receive), send)

    def _limit(self, path: str) -> int | None:
        if path in UPLOAD_PATHS:
            return self.limits.upload
        if path.startswith("/api/"):
            return self.limits.api_json
        if path.startswith(GRADIO_PREFIX + "/"):
            return self.limits.gradio_event
        return self.limits.api_json  # anything else mounted here takes no big bodies either

    def _refuse_early(self, path: str, headers: dict[str, str]) -> tuple[int, str] | None:
        if path in STAFF_PATHS or path.startswith("/api/rules/"):
            return self.staff_check(staff_token_from(headers.get("x-staff-token"), headers.get("authorization")))
        if path.startswith(GRADIO_PREFIX + "/proxy="):
            return 403, "this server fetches nothing for its clients"
        if path.startswith(GRADIO_PREFIX + "/file="):
            return self._refuse_file(urllib.parse.unquote(path[len(GRADIO_PREFIX + "/file="):]))
        return None

    def _refuse_file(self, wanted: str) -> tuple[int, str] | None:
        if "://" in wanted or not self._in_upload_dir(wanted):
            return 403, "file not allowed"
        return None

    def _in_upload_dir(self, path: str) -> bool:
        if self.upload_dir is None or "\x00" in path:
            return False
        try:
            real = Path(path).resolve()  # symlinks followed: a link in the folder pointing out is refused
        except (OSError, RuntimeError, ValueError):
            return False
        return real.is_relative_to(self.upload_dir)

    def _foreign_file_item(self, body: bytes) -> str | None:
        """A reason to refuse a Gradio event whose JSON names a file Gradio did not receive, else None."""
        try:
            data = json.loads(body) if body.strip() else None
        except (ValueError, RecursionError):
            return None  # not JSON: Gradio answers it itself
        stack: list[tuple[Any, int]] = [(data, 0)]
        while stack:
            value, depth = stack.pop()
            if depth > MAX_JSON_DEPTH:
                return "event data nested too deeply"
            if isinstance(value, dict):
                item = value.get("path")
                if isinstance(item, str) and not self._in_upload_dir(item):
                    return "file items are accepted only for files uploaded to this app"
                stack.extend((v, depth + 1) for v in value.values())
            elif isinstance(value, list):
                stack.extend((v, depth + 1) for v in value)
        return None

    async def _stream_capped(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the body through as it streams; past `limit`, answer 413 and tell the app the client left."""
        seen = 0
        answered = False

        async def counted_receive() -> Message:
            nonlocal seen, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    answered = True
                    await _respond(send, 413, f"request body over {limit:,} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not answered:
                await send(message)

        started = time.time()
        await self.app(scope, counted_receive, guarded_send)
        if answered and scope["path"] == GRADIO_PREFIX + "/upload":
            self._remove_partial_uploads(started)

    def _remove_partial_uploads(self, since: float) -> None:
        """Gradio leaves the part it was writing when a client is cut off (it cleans up only after its own
        per-file limit): remove its temporary files begun during the cut request. (An admin's upload running
        at the same moment would fail and must be retried: uploads are rare and staff-driven.)"""
        if self.upload_dir is None:
            return
        for path in self.upload_dir.glob("tmp*"):
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_ctime >= since - 1:
                    path.unlink()
            except OSError:
                pass


def staff_token_from(x_staff_token: str | None, authorization: str | None) -> str | None:
    """The staff token a request carries: `X-Staff-Token`, else `Authorization: Bearer ...`."""
    if x_staff_token:
        return x_staff_token
    return authorization[7:] if authorization and authorization.startswith("Bearer ") else None


async def _read_capped(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` (the rest is not read)."""
    chunks, seen = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect as the app expects

    return replayed


async def _respond(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def private_upload_dir() -> Path:
    """Gradio's upload folder for this process: `GRADIO_TEMP_DIR` when set, else a new private (0700) folder,
    exported so that Gradio, imported after this call, uses it."""
    import tempfile

    if os.environ.get("GRADIO_TEMP_DIR"):
        folder = Path(os.environ["GRADIO_TEMP_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="aisle-uploads-"))
        os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder.resolve()
