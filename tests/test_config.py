"""Settings load checked through `load_settings`: wrong types, unknown keys and unknown names are a
ConfigError that names the key (in aisle.toml) or the variable (AISLE_*); tables are settable from the
environment with a double underscore, and every older AISLE_* variable still works."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.behaviour import cf_model_names
from assistant.core.config import (CF_MODELS, EMBEDDERS, FUSION_METHODS, LLM_MODELS, ConfigError, FusionSettings,
                                   ReadLimits, Settings, load_settings)
from assistant.core.errors import AisleError
from assistant.index.embedding import embedder_names
from assistant.llm.model import model_names


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aisle.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return str(caught.value)


# ---------------------------------------------------------------------------- the file


def test_no_file_and_an_empty_file_give_the_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "missing.toml") == Settings()
    assert load_settings(toml(tmp_path, "")) == Settings()


def test_a_valid_file_loads_every_kind_of_value(tmp_path: Path) -> None:
    path = toml(tmp_path, 'index_dir = "shop/index"\nindex_name = "shop"\nembedder = "use"\nthreads = 4\n'
                          'verify_seconds = 30\nllm_model = "none"\nllm_int8 = false\ncf_model = "als"\n'
                          'segments_file = "segments.toml"\n'
                          '[fusion]\nmethod = "rrf"\ncontent = 1\nmax_popular_share = 0.4\n'
                          '[limits]\nmax_rows = 5_000\n[column_map]\nid = "sku"\n')
    settings = load_settings(path)
    assert settings.index_dir == Path("shop/index") and settings.segments_file == Path("segments.toml")
    assert (settings.index_name, settings.embedder, settings.threads) == ("shop", "use", 4)
    assert settings.verify_seconds == 30.0 and isinstance(settings.verify_seconds, float)
    assert (settings.llm_model, settings.llm_int8, settings.cf_model) == ("none", False, "als")
    assert settings.fusion == FusionSettings(method="rrf", content=1.0, max_popular_share=0.4)
    assert isinstance(settings.fusion.content, float)
    assert settings.limits == ReadLimits(max_rows=5_000)
    assert settings.column_map == {"id": "sku"}


@pytest.mark.parametrize(("text", "key", "problem"), [
    ('[fusion]\ncontent = "0.5"\n', "fusion.content", "must be a number (got '0.5')"),
    ("[fusion]\ncontent_pool = 1.5\n", "fusion.content_pool", "must be a whole number (got 1.5)"),
    ("threads = 2.0\n", "threads", "must be a whole number (got 2.0)"),
    ('threads = "2"\n', "threads", "must be a whole number (got '2')"),
    ("llm_int8 = 1\n", "llm_int8", "must be true or false (got 1)"),
    ('log_messages = "yes"\n', "log_messages", "must be true or false (got 'yes')"),
    ("index_name = 5\n", "index_name", "must be a string (got 5)"),
    ("index_dir = 3\n", "index_dir", "must be a path"),
    ("fusion = 3\n", "fusion", "must be a table (got 3)"),
    ("[column_map]\nid = 5\n", "column_map.id", "must be a string (got 5)"),
    ("[limits]\nmax_rows = 0\n", "limits.max_rows", "must be at least 1 (got 0)"),
    ("[limits]\nmax_rows = true\n", "limits.max_rows", "must be a whole number (got True)"),
])
def test_a_value_of_the_wrong_type_names_its_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = toml(tmp_path, text)
    message = load_error(path)
    assert message.startswith(f"{path}: {key}: ") and problem in message


@pytest.mark.parametrize(("text", "key", "choices", "got"), [
    ('[fusion]\nmethod = "rrff"\n', "fusion.method", "weighted, rrf", "rrff"),
    ('embedder = "bert"\n', "embedder", "auto, minilm, use, hashing", "bert"),
    ('cf_model = "svd"\n', "cf_model", "auto, popularity, user_user, item_item, als, bpr, ease, sequence, blend", "svd"),
    ('llm_model = "qwn"\n', "llm_model", "qwen, smollm2, none, or a path", "qwn"),
])
def test_an_unknown_name_names_its_key_and_the_choices(tmp_path: Path, text: str, key: str, choices: str,
                                                       got: str) -> None:
    path = toml(tmp_path, text)
    message = load_error(path)
    assert message.startswith(f"{path}: {key}: must be one of {choices}") and f"(got {got!r})" in message


def test_the_brief_example_reads_as_one_line(tmp_path: Path) -> None:
    path = toml(tmp_path, '[fusion]\nmethod = "rrff"\n')
    assert load_error(path) == f"{path}: fusion.method: must be one of weighted, rrf (got 'rrff')"


@pytest.mark.parametrize("model", ["./models/mine.gguf", "weights.gguf", "~/models/qwen", "smollm2", "none"])
def test_llm_model_takes_a_packaged_name_none_or_a_path(tmp_path: Path, model: str) -> None:
    assert load_settings(toml(tmp_path, f'llm_model = "{model}"\n')).llm_model == model


@pytest.mark.parametrize(("text", "key", "known"), [
    ("foo = 1\n", "foo", "index_dir"),
    ("[fusion]\ncontnt = 0.5\n", "fusion.contnt", "content"),
    ("[limits]\nmax_bytes = 10\n", "limits.max_bytes", "max_file_bytes"),
])
def test_an_unknown_key_is_named_with_the_known_ones(tmp_path: Path, text: str, key: str, known: str) -> None:
    path = toml(tmp_path, text)
    message = load_error(path)
    assert message.startswith(f"{path}: {key}: is not a setting; known: ") and known in message


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    path = toml(tmp_path, 'threads = "2"\n[fusion]\nmethod = "rrff"\n')
    lines = load_error(path).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["threads", "fusion.method"]


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    path = toml(tmp_path, "threads = [1\n")
    assert load_error(path).startswith(f"{path}: not valid TOML")


def test_config_error_is_an_aisle_error_and_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(AisleError):
        load_settings(toml(tmp_path, "foo = 1\n"))
    with pytest.raises(ValueError):
        load_settings(toml(tmp_path, "foo = 1\n"))


def test_aisle_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('index_name = "other"\n')
    monkeypatch.setenv("AISLE_CONFIG", str(path))
    assert load_settings().index_name == "other"
    path.write_text("index_name = 1\n")
    assert str(path) in str(pytest.raises(ConfigError, load_settings).value)


# ---------------------------------------------------------------------------- the environment


def test_variables_override_the_file_and_are_converted_from_text(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = toml(tmp_path, 'index_name = "shop"\nthreads = 4\nllm_int8 = true\n')
    for name, value in {"AISLE_INDEX_NAME": "other", "AISLE_THREADS": "8", "AISLE_LLM_INT8": "no",
                        "AISLE_INDEX_DIR": "idx", "AISLE_STATE_DIR": "state", "AISLE_VERIFY_SECONDS": "2.5",
                        "AISLE_EMBEDDER": "hashing", "AISLE_LLM_MODEL": "none", "AISLE_CF_MODEL": "ease",
                        "AISLE_STAFF_TOKEN": "tok", "AISLE_STOREFRONT_TOKEN": "front",
                        "AISLE_MAX_UPLOAD_BYTES": "1000", "AISLE_LOG_MESSAGES": "true"}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(path)
    assert (settings.index_name, settings.threads, settings.llm_int8) == ("other", 8, False)
    assert (settings.index_dir, settings.state_dir, settings.verify_seconds) == (Path("idx"), Path("state"), 2.5)
    assert (settings.embedder, settings.llm_model, settings.cf_model) == ("hashing", "none", "ease")
    assert (settings.staff_token, settings.storefront_token) == ("tok", "front")
    assert (settings.max_upload_bytes, settings.log_messages) == (1000, True)


def test_nested_tables_from_double_underscore_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = toml(tmp_path, '[fusion]\nmethod = "rrf"\ncontent = 0.9\n[limits]\nmax_columns = 50\n')
    monkeypatch.setenv("AISLE_FUSION__CONTENT", "0.5")
    monkeypatch.setenv("AISLE_FUSION__MAX_POPULAR_SHARE", "0.4")
    monkeypatch.setenv("AISLE_LIMITS__MAX_ROWS", "1_000")
    settings = load_settings(path)
    # The variables change their keys only: the file's other keys of the same table stay.
    assert settings.fusion == FusionSettings(method="rrf", content=0.5, max_popular_share=0.4)
    assert settings.limits == ReadLimits(max_rows=1_000, max_columns=50)


def test_the_older_single_underscore_limit_variables_still_work(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = toml(tmp_path, "[limits]\nmax_rows = 5_000\nmax_columns = 50\n")
    monkeypatch.setenv("AISLE_LIMITS_MAX_ROWS", "70")
    monkeypatch.setenv("AISLE_LIMITS__MAX_JSON_DEPTH", "8")
    assert load_settings(path).limits == ReadLimits(max_rows=70, max_columns=50, max_json_depth=8)
    monkeypatch.setenv("AISLE_LIMITS__MAX_ROWS", "70")  # both spellings, one value: fine
    assert load_settings(path).limits.max_rows == 70
    monkeypatch.setenv("AISLE_LIMITS__MAX_ROWS", "80")
    with pytest.raises(ConfigError, match="AISLE_LIMITS_MAX_ROWS and AISLE_LIMITS__MAX_ROWS"):
        load_settings(path)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("AISLE_FUSION__CONTENT", "lots", "AISLE_FUSION__CONTENT must be a number (got 'lots')"),
    ("AISLE_FUSION__METHOD", "rrff", "AISLE_FUSION__METHOD must be one of weighted, rrf (got 'rrff')"),
    ("AISLE_LIMITS__MAX_ROWS", "0", "AISLE_LIMITS__MAX_ROWS must be at least 1 (got '0')"),
    ("AISLE_LIMITS_MAX_ROWS", "lots", "AISLE_LIMITS_MAX_ROWS must be a whole number (got 'lots')"),
    ("AISLE_THREADS", "2.5", "AISLE_THREADS must be a whole number (got '2.5')"),
    ("AISLE_LLM_INT8", "maybe", "AISLE_LLM_INT8 must be true or false (got 'maybe')"),
    ("AISLE_EMBEDDER", "bert", "AISLE_EMBEDDER must be one of auto, minilm, use, hashing (got 'bert')"),
    ("AISLE_CF_MODEL", "svd", "AISLE_CF_MODEL must be one of auto, popularity,"),
    ("AISLE_LLM_MODEL", "qwn", "AISLE_LLM_MODEL must be one of qwen, smollm2, none"),
    ("AISLE_FUSION__CONTNT", "0.5", "AISLE_FUSION__CONTNT is not a setting; known: AISLE_FUSION__METHOD"),
    ("AISLE_LIMITS__MAX_BYTES", "5", "AISLE_LIMITS__MAX_BYTES is not a setting; known: AISLE_LIMITS__MAX_FILE_BYTES"),
    ("AISLE_FUSION", '{"content": 0.5}', "AISLE_FUSION cannot be set as a whole"),
])
def test_a_bad_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                 message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "missing.toml")
    assert str(caught.value).startswith(message)


def test_other_aisle_variables_are_not_settings_and_are_left_alone(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AISLE_HOST", "AISLE_PORT", "AISLE_DATA_KEY", "AISLE_PSEUDONYM_KEY", "AISLE_MODEL_CACHE"):
        monkeypatch.setenv(name, "anything")
    assert load_settings(tmp_path / "missing.toml") == Settings()


# ---------------------------------------------------------------------------- the public surface


def test_the_choices_are_the_names_each_stage_accepts() -> None:
    assert set(EMBEDDERS) == set(embedder_names()) | {"auto"}  # "auto" is chosen by the catalog's titles
    assert set(CF_MODELS) == set(cf_model_names()) | {"auto"}  # "auto" is chosen on the store's log
    assert set(LLM_MODELS) == set(model_names())
    assert FUSION_METHODS == ("weighted", "rrf")


def test_settings_stay_frozen_dataclasses(tmp_path: Path) -> None:
    settings = load_settings(toml(tmp_path, "[fusion]\ncontent = 0.5\n"))
    changed = dataclasses.replace(settings, index_name="other", fusion=dataclasses.replace(settings.fusion, cf=1.0))
    assert (changed.index_name, changed.fusion.content, changed.fusion.cf) == ("other", 0.5, 1.0)
    assert settings.with_overrides(threads=3, index_dir=None).threads == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.threads = 1  # type: ignore[misc]
    assert "s3cret-token" not in repr(dataclasses.replace(settings, staff_token="s3cret-token"))
