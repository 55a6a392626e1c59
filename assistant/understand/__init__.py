"""Stage 4: the shopper's words and conversation -> a structured request."""

from assistant.understand.conversation import Conversation, merge_requests, starts_new_topic
from assistant.understand.parser import clean_message, parse_message
from assistant.understand.request import CHEAPER_FACTOR, LANGUAGES, MAX_CHARS, MAX_PRICE, Request, Turn
from assistant.understand.vocabulary import Vocabulary, load_vocabulary

__all__ = ["CHEAPER_FACTOR", "LANGUAGES", "MAX_CHARS", "MAX_PRICE", "Conversation", "Request", "Turn",
           "Vocabulary", "clean_message", "load_vocabulary", "merge_requests", "parse_message", "starts_new_topic"]
