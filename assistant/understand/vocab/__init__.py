"""Vocabulary files for `assistant.understand.dialogue.parse_message`, one TOML file per language (en.toml, zh.toml)."""
