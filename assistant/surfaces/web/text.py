"""Text shown as itself in a Gradio Markdown component."""

from __future__ import annotations

import html
import re

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def markdown_literal(text: str) -> str:
    """`text` shown as itself in a gr.Markdown: HTML escaped, Markdown syntax backslash-escaped, so a file's
    header or an error message can never become a link, an image or a tag."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", "  \n")
