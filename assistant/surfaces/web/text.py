"""Text shown as itself in a Gradio Markdown component."""

from __future__ import annotations

import html
import re

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def markdown_literal(text: str) -> str:
    """`text` shown as itself in a gr.Markdown: HTML escaped, Markdown syntax backslash-escaped, so a file's
    header or an error message can never become a link, an image or a tag."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", "  \n")


def store_profile_text(profile) -> str:
    """The store profile and catalog-quality report as Markdown lines; every catalog value made literal."""
    def line(key: str, value: object) -> str:
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "(none)"
        return f"- {markdown_literal(key)}: {markdown_literal(str(value))}"

    summary = [line(k, v) for k, v in profile.summary().items()]
    quality = [line(k, v) for k, v in profile.quality.items()]
    return "\n\n**Store profile**\n\n" + "\n".join(summary) + "\n\n**Catalog quality**\n\n" + "\n".join(quality)
