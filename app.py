"""Launch Aisle's web app on the built-in demo store: `python app.py` (or `make run`).

Environment: AISLE_PORT (default 7860), AISLE_HOST (default 127.0.0.1), and every AISLE_* setting
of assistant/core/config.py (e.g. AISLE_INDEX_NAME to serve another built index).
"""

import os

from assistant.core.config import load_settings
from assistant.surfaces.server import serve

if __name__ == "__main__":
    # serve() is quiet until the index build's progress bar and the "running" line: say what comes first.
    print("Starting Aisle: building the demo index if it is missing (~20 s the first time), then loading the "
          "models...", flush=True)
    serve(load_settings(), host=os.environ.get("AISLE_HOST", "127.0.0.1"),
          port=int(os.environ.get("AISLE_PORT", "7860")))
