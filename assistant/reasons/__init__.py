"""Stage 7: grounded one-line reasons, checked against product data."""

from assistant.reasons.check import check_reason
from assistant.reasons.explain import (Reason, clean_generation, explain, grounded_sentence, reason_prompts,
                                       shared_prefix, speak_to_shopper)
from assistant.reasons.templates import template_reason

__all__ = ["Reason", "check_reason", "clean_generation", "explain", "grounded_sentence", "reason_prompts", "shared_prefix",
           "speak_to_shopper", "template_reason"]
