"""Vocabulary files for `assistant.understand.parse_message`, one TOML file per language (en.toml, zh.toml)."""
