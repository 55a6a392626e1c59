"""Aisle: an offline conversational shopping assistant.

Importing the package is cheap: heavy libraries (torch, faiss, gradio) load where they are used.
The package forces Hugging Face offline mode before anything can import transformers: no model
is ever fetched from a hub.
"""

import os as _os

_os.environ.setdefault("HF_HUB_OFFLINE", "1")
_os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
_os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
_os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
