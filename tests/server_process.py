"""A real `aisle serve` process on a loopback port, for tests that must go through the server over HTTP.

Security tests use it (not an in-process app): what an attacker reaches is the process that `aisle serve`
starts, with Gradio mounted the way it is mounted in production.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAFF_TOKEN = "staff-secret-for-tests-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class HttpAnswer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ServerProcess:
    """One `aisle serve` child process; `folder` is its working folder (index/ and state/ inside)."""

    folder: Path
    process: subprocess.Popen
    base: str
    log: Path

    @property
    def state_dir(self) -> Path:
        return self.folder / "state"

    @property
    def upload_dir(self) -> Path:
        """Gradio's upload folder of this server (GRADIO_TEMP_DIR)."""
        return self.folder / "uploads"

    @property
    def index_dir(self) -> Path:
        return self.folder / "index"

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None, timeout: float = 60.0) -> HttpAnswer:
        """One HTTP request; any status comes back as an answer (never raises on 4xx/5xx)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        sent = {"Content-Type": "application/json"} if body is not None else {}
        sent.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return HttpAnswer(response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as err:
            return HttpAnswer(err.code, err.read(), dict(err.headers))

    def gradio_event(self, api_name: str, data: list, timeout: float = 60.0) -> tuple[int, str]:
        """Run one Gradio event as the browser does (queue/join, then the event stream); returns the join's
        status and everything the server sent back (the join's body when it was refused)."""
        import uuid

        config = self.request("GET", "/config").json()
        dependency = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
        session = uuid.uuid4().hex[:10]
        joined = self.request("POST", "/gradio_api/queue/join", body={
            "data": data, "fn_index": dependency["id"], "trigger_id": dependency["targets"][0][0],
            "session_hash": session, "event_data": None})
        if joined.status != 200:
            return joined.status, joined.body.decode(errors="replace")
        lines = []
        with urllib.request.urlopen(f"{self.base}/gradio_api/queue/data?session_hash={session}",
                                    timeout=timeout) as stream:
            for raw in stream:
                line = raw.decode(errors="replace")
                lines.append(line)
                if "process_completed" in line:
                    break
        return joined.status, "".join(lines)

    def staff(self) -> dict[str, str]:
        return {"X-Staff-Token": STAFF_TOKEN}

    def network_attempts(self) -> list[str]:
        """Connections to other hosts the server tried (all refused), from the network-blocking hook."""
        log = self.folder / "network.log"
        lines = log.read_text().splitlines() if log.is_file() else []
        assert lines and lines[0].startswith("# networking blocked"), "the network-blocking hook did not load"
        return lines[1:]

    def environ(self) -> dict[str, str]:
        """The server process's environment as the kernel holds it."""
        raw = Path(f"/proc/{self.process.pid}/environ").read_bytes()
        return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        for sig, wait in ((signal.SIGINT, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            if self.process.poll() is not None:
                return
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue


def server_env(folder: Path, **settings: str) -> dict[str, str]:
    """The child's environment: no outer AISLE_* or GRADIO_* setting, the model-free embedder, no LLM, a
    staff token, and networking blocked but for loopback (attempts listed in `folder/network.log`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AISLE_", "GRADIO_"))}
    env.update({"AISLE_INDEX_DIR": str(folder / "index"), "AISLE_STATE_DIR": str(folder / "state"),
                "AISLE_STAFF_TOKEN": STAFF_TOKEN, "AISLE_LLM_MODEL": "none", "AISLE_EMBEDDER": "hashing",
                "AISLE_TEST_NETWORK_LOG": str(folder / "network.log"), "GRADIO_TEMP_DIR": str(folder / "uploads"),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "tests" / "netblock"), str(ROOT),
                                                            os.environ.get("PYTHONPATH")]))})
    env.update({f"AISLE_{k.upper()}": v for k, v in settings.items()})
    return env


def start_server(folder: Path, args: list[str] | None = None, env: dict[str, str] | None = None,
                 command: list[str] | None = None, timeout: float = 180.0) -> ServerProcess:
    """Start `aisle serve` in `folder` (the demo store unless `args` say otherwise) and wait for /api/health."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "server.log"
    argv = command or [sys.executable, "-m", "assistant.surfaces.cli", "serve"]
    with open(log, "wb") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([*argv, "--port", str(port), *(args or [])], cwd=folder,
                                   env=env or server_env(folder), stdout=output, stderr=subprocess.STDOUT)
    server = ServerProcess(folder, process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}:\n{server.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.base + "/api/health", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{server.log_text()[-3000:]}")
