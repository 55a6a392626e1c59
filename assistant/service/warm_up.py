"""What the first shopper would otherwise wait for, loaded when the server starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.service.cross_lingual import query_embedder as cross_lingual_query_embedder
from assistant.understand import Conversation
from assistant.understand.dictionary import cedict

if TYPE_CHECKING:
    from assistant.service.assistant import Assistant

WARM_UP_MESSAGES = ("something nice under $20", "不要太贵的")  # one English, one Chinese


def warm_up(assistant: Assistant) -> None:
    """Load the query embedder, the CF model, the Chinese dictionary and, when the served build keeps
    multilingual vectors, their embedder; then rank an English and a Chinese message (nothing is recorded) so
    every table built on first use is ready. On Complete Journey the first Chinese message took 2.3 s
    without it, ~50 ms after it."""
    pipeline = assistant.turn_pipeline()  # loads the query embedder and the CF model
    cedict()
    if pipeline.cross_lingual is not None:
        cross_lingual_query_embedder(assistant.settings.threads).embed_query("热身")
    for message in WARM_UP_MESSAGES:
        pipeline.run(message, Conversation(), None, None, 5, None, ())
