"""The web server: composes the JSON API, the request guard and the Gradio app on one FastAPI app, and
starts it (`aisle serve`, `python app.py`). api.py and web/ know nothing of each other or of this module."""

from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from fastapi import FastAPI

from assistant.core.config import Settings
from assistant.core.progress import ProgressBar
from assistant.service.assistant import Assistant, ensure_demo_index
from assistant.surfaces.api import create_api, staff_refusal
from assistant.surfaces.guard import BodyLimits, RequestGuard, private_upload_dir
from assistant.surfaces.logs import configure_logging


def create_app(assistant: Assistant, mount_ui: bool = True) -> FastAPI:
    """The API over one Assistant behind the RequestGuard (and, by default, the Gradio app at /)."""
    app = create_api(assistant)
    limits = BodyLimits(upload=assistant.settings.max_upload_bytes)
    upload_dir = None
    if mount_ui:
        upload_dir = private_upload_dir()  # before Gradio is imported: it reads GRADIO_TEMP_DIR then
        import gradio as gr

        from assistant.surfaces.web import CSS, build_app
        blocks = build_app(assistant)
        # Gradio's own per-file cap sits under the guard's body cap: past it, Gradio removes its partial file.
        per_file = max(1, limits.upload - 1024 * 1024)
        app = gr.mount_gradio_app(app, blocks, path="/", css=CSS, run_history=False, max_file_size=per_file,
                                  allowed_paths=[], blocked_paths=[str(Path(assistant.settings.state_dir).resolve()),
                                                                   str(Path(assistant.settings.index_dir).resolve())])
        # Gradio checks file items against its upload folder only once this is set, and mounting never sets
        # it (RequestGuard refuses such items first; this is the second line).
        blocks.has_launched = True
    app.add_middleware(RequestGuard, staff_check=functools.partial(staff_refusal, assistant), limits=limits,
                       upload_dir=upload_dir)
    return app


@contextmanager
def serving_in_background(app: FastAPI, host: str = "127.0.0.1", timeout: float = 60.0) -> Iterator[str]:
    """Serve `app` on a free loopback port in a background thread; yields its base URL, stops on exit.
    (For tests and benchmarks; `serve` runs uvicorn in the foreground.)"""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError(f"the app did not start on {host}:{port} within {timeout:.0f} s")
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve(settings: Settings, catalogs: list[Path] | None = None, host: str = "127.0.0.1",
          port: int = 7860) -> None:
    """Index the given catalogs (or the demo store) if needed, then serve the app and the API."""
    import uvicorn

    configure_logging()
    with ProgressBar("embedding catalog") as progress:
        if catalogs:
            summary = Assistant(settings).rebuild_index(catalogs, progress=progress)
            print(summary.report.format(limit=10))
            print(summary.format())
        elif settings.index_name == "demo":
            summary = ensure_demo_index(settings, progress=progress)
            if summary is not None:
                print(summary.format())
    from assistant.privacy.keys import DataKeyError, data_cipher, pseudonymizer
    from assistant.service.warm_up import warm_up
    try:  # a bad key should stop the start, not fail shoppers' requests one by one
        pseudonymizer(settings.state_dir)
        data_cipher(settings.state_dir)
    except (ValueError, DataKeyError) as err:
        raise SystemExit(f"error: {err}") from None
    assistant = Assistant(settings)
    print(f"serving index '{settings.index_name}' ({len(assistant.index.products)} products)")
    # Load the models before the first shopper waits for them, saying what takes the time.
    print(f"loading the embedding model ({assistant.index.model_id}) and the behavioural (CF) model (fitted on "
          "the store's logs the first time)", flush=True)
    warm_up(assistant)
    assistant.check_published_on_a_schedule()  # damaged index or model files show in /api/health
    if settings.llm_model != "none":
        print(f"loading the language model '{settings.llm_model}' (the first start converts its weights "
              "once, about a minute; later starts take seconds)", flush=True)
    if assistant.language_model() is None:
        print(f"note: answering without the LLM stage ({assistant.language_model_problem})")
    app = create_app(assistant)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    print(f"Aisle is running: open http://{shown}:{port}  (API docs: http://{shown}:{port}/docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
