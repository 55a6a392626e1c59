"""Stage 6: the local language model, prompt templates and the LLM rerank.

The language model's public API is re-exported here (``from assistant.llm import make_language_model``);
importing it loads neither torch nor transformers. Prompts and the rerank are imported from their modules.
"""

from assistant.llm.model import LanguageModel, TransformersLM, make_language_model
from assistant.llm.weights import (DEFAULT_MODEL, PACKAGED, ModelUnavailable, PackagedModel, assemble_verified,
                                   default_cache_dir, model_names, part_files)

__all__ = ["DEFAULT_MODEL", "LanguageModel", "ModelUnavailable", "PACKAGED", "PackagedModel", "TransformersLM",
           "assemble_verified", "default_cache_dir", "make_language_model", "model_names", "part_files"]
