"""Aisle: an offline conversational shopping assistant.

Importing the package is cheap: heavy libraries (torch, faiss, gradio) load where they are used.
The package forces Hugging Face offline mode before anything can import transformers: no model
is ever fetched from a hub.
"""

import os as _os

_os.environ.setdefault("HF_HUB_OFFLINE", "1")
_os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
_os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
_os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # never telemetry or a version check from Gradio
_os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One BLAS thread: the matrices Aisle multiplies per request are small, and OpenBLAS worker threads
# left spinning after a product fight torch's threads for the cores (query embedding went from 8 ms to
# 70 ms when interleaved with a CF product on 2 cores). `Assistant` also enforces it with threadpoolctl.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
