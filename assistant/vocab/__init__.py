"""Vocabulary files for `assistant.dialogue.parse_message`, one TOML file per language (en.toml, zh.toml)."""
