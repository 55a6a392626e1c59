"""Stage 6: the local language model, prompt templates and the LLM rerank."""
