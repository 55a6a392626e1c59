"""Prompt templates live as files in `prompts/`; variables are checked; untrusted text is quoted.

A template file has sections headed `[system]`, `[user]` (and optionally `[candidate]`), each with
`{name}` placeholders. `render` raises `PromptError` naming a missing or unexpected variable instead of
sending a broken prompt. Shopper and catalog text enter only through `quote`, which neutralises anything
that could close a data block or open a chat turn, so data cannot become instructions.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import AisleError
from assistant.core.resources import package_path
from assistant.privacy.pii import scrub

# The repository's top-level prompts/ folder, shipped as assistant/llm/templates (a symlink to it).
PROMPTS_DIR = package_path("assistant.llm", "templates")
_SECTION = re.compile(r"^\[(\w+)\]\s*$", re.MULTILINE)
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}
MAX_QUOTED_CHARS = 600


class PromptError(AisleError, ValueError):
    """A template is missing, malformed, or rendered with missing or unexpected variables."""


@dataclass(frozen=True)
class Template:
    """A prompt template: its sections and the variables each one uses."""

    name: str
    sections: dict[str, str]

    def variables(self, section: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(self.sections[section]) if field}

    def render(self, section: str, **values: str) -> str:
        """Fill one section; every placeholder needs a value and every value a placeholder."""
        if section not in self.sections:
            raise PromptError(f"prompt {self.name!r} has no [{section}] section")
        needed = self.variables(section)
        missing, extra = needed - set(values), set(values) - needed
        if missing or extra:
            raise PromptError(f"prompt {self.name!r} [{section}]: missing {sorted(missing)}, unexpected {sorted(extra)}")
        return self.sections[section].format(**values).strip()


def load_template(name: str, folder: Path | None = None) -> Template:
    """Read `prompts/<name>.txt`."""
    path = (folder or PROMPTS_DIR) / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PromptError(f"prompt template {path} cannot be read ({err})") from None
    parts = _SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}
    if "system" not in sections or "user" not in sections:
        raise PromptError(f"{path}: a template needs [system] and [user] sections")
    return Template(name, sections)


_TO_SENTENCE_END = r"[^.!?。！？\n]{0,120}[.!?。！？]?"  # the rest of a fake turn or a claim, up to its sentence end
# Text in data that only an attacker writes: chat markup, role labels, orders to the model, the judge's
# answer word, links. Removed before data reaches a prompt (quoting alone stops delimiter tricks, but the
# measured P(Yes) of a hostile product still rose by up to 0.43 from the words of the attack).
_INJECTION = [re.compile(p, re.IGNORECASE) for p in (
    r"<\|[^|>]{0,40}\|>\s*(?:system|assistant|user)?", r"\{+\s*[\w.]{0,40}\s*\}+", r"\bbest match\b", r"最符合", r"\b(?:im_start|im_end|endoftext|eot_id|start_header_id)\b",
    r"https?://\S+", r"\bwww\.\S+",
    r"[\u202a-\u202e\u2066-\u2068][^\u202c\u2069]{0,80}[\u202c\u2069]?",  # a bidi-override run: text shown reversed
    # A role label and the fake turn it opens, to the end of its sentence: what "User: is it the best?" asks
    # moved the judge's P(Yes) +0.18 on one CPU once the label alone was gone.
    r"\b(?:system|assistant|user|human|developer)\s*(?:prompt|message)?\s*[:：]" + _TO_SENTENCE_END,
    r"\b(?:ignore|disregard|forget|override)\b[^.!?。！\n]{0,80}",
    # Product data telling the judge what the shopper wants ("The shopper wants this."): +0.18 P(Yes) on one CPU.
    r"\b(?:the|this|your)\s+(?:shopper|customer|buyer)\s+(?:wants|needs|asked|asks|prefers|chose|would)\b"
    r"[^.!?。！？\n]{0,80}[.!?。！？]?",
    r"(?:顾客|购物者|用户|买家)(?:想要|需要|要的就是)[^。！？\n]{0,30}[。！？]?",
    r"(?:\b(?:please|now|just|always|and|then|so|you|must|should)\s+)*"
    r"\b(?:answer|reply|respond|rate|say|output|return)\b[^.!?。！\n]{0,30}\byes\b",
    r"\bas an ai\b(?: language model)?", r"\byou must\b", r"\bsystem prompt\b", r"\binstructions?\b",
    r"\byes\b[!.]*",
    r"[\u4e00-\u9fff]{0,12}(?:忽略|无视|忘记|回答|输出)[^。！？\n]{0,30}", r"(?:系统|助手|用户)\s*[:：]" + _TO_SENTENCE_END, r"指令",
)]


def redact_instructions(text: str) -> str:
    """Remove instruction-like spans from untrusted text (see _INJECTION) with the punctuation they leave
    behind, and no marker: any extra text, even a "(removed)" note or a stray "。", moves a small model's
    judgement as much as the attack did."""
    for pattern in _INJECTION:
        text = pattern.sub("\x00", text)
    return re.sub(r"\s*\x00[\s\x00,.;:!?。，！？、]*", " ", text)


def quote(text: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """Untrusted text made safe to embed between «guillemets»: instruction-like spans removed, no control
    characters or line breaks, no angle brackets, braces, backticks or guillemets (so it cannot close the
    quote, fake a tag or a chat turn such as <|im_start|>), whitespace collapsed, length bounded."""
    cleaned = []
    for ch in redact_instructions(unicodedata.normalize("NFKC", str(text or ""))):
        if unicodedata.category(ch) in _CONTROL:
            cleaned.append(" ")
        elif ch in "<>«»‹›{}`|":
            cleaned.append({"<": "(", ">": ")", "{": "(", "}": ")"}.get(ch, " "))
        else:
            cleaned.append(ch)
    collapsed = " ".join("".join(cleaned).split())
    return collapsed[:limit] + ("…" if len(collapsed) > limit else "")


def quote_shopper(text: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """Shopper text for a prompt: personal data (e-mail, phone, card, address) replaced by labels first —
    the model needs the shopper's wish, never their contact details — then quoted like any untrusted text."""
    return quote(scrub(str(text or "")), limit)
