"""Benchmark: language-model load time, memory, decode speed and yes/no scoring time on this machine.

Usage:
  python benchmarks/llm_probe.py                        # qwen and smollm2, fp32 and int8
  python benchmarks/llm_probe.py --models smollm2 --threads 2 --tokens 24

Each measurement runs in its own process (one at a time), so peak RSS is that stage's alone. The first
`load` of a model converts its GGUF into the cache (AISLE_MODEL_CACHE or ~/.cache/aisle/models) unless
that was already done; the second `load` reads the converted safetensors folder.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PREFIX = ("<|im_start|>system\nYou judge whether a product suits a shopper's request. Answer Yes or No."
          "<|im_end|>\n<|im_start|>user\nShopper request: a warm, waterproof winter jacket for a ten-year-old "
          "child who walks to school in rain and snow; budget under 80 dollars; prefers bright colours so "
          "drivers can see them; must be machine washable and have a hood; size around 140 cm; lightweight "
          "enough to pack in a school bag when the sun comes out; recycled materials are a plus; delivery "
          "before the end of the month. Consider fit, weather protection, care instructions and price, and "
          "reply with one word.\nProduct: ")
SUFFIX = ("{title}. A {kind} with sealed seams, a detachable hood, reflective strips and a soft fleece lining; "
          "machine washable at 30 degrees; made from recycled polyester; price {price} dollars.\n"
          "Does it suit the request?<|im_end|>\n<|im_start|>assistant\n")
KINDS = ["kids rain jacket", "cast iron pan", "adult ski jacket", "wool socks", "children's parka",
         "garden hose", "school backpack", "umbrella", "snow boots", "reading lamp"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_load(name: str, quantize: bool, threads: int) -> dict:
    from assistant.llm import TransformersLM

    start = time.perf_counter()
    TransformersLM(name, threads=threads, quantize=quantize)
    return {"load_s": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak_rss_mb())}


def stage_speed(name: str, quantize: bool, threads: int, tokens: int) -> dict:
    from assistant.llm import TransformersLM

    start = time.perf_counter()
    lm = TransformersLM(name, threads=threads, quantize=quantize)
    out: dict = {"load_s": round(time.perf_counter() - start, 1)}
    prompts = [lm.chat_prompt("You are a shop assistant. Answer in full sentences.",
                              f"Write a long, detailed paragraph describing a {kind}.") for kind in KINDS[:5]]
    lm.generate(prompts[:1], 2)  # warm-up
    for batch in (1, 5):
        start = time.perf_counter()
        texts = lm.generate(prompts[:batch], tokens)
        elapsed = time.perf_counter() - start
        produced = sum(len(lm.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
        out[f"decode_b{batch}_tok_s"] = round(produced / elapsed, 1)
    suffixes = [SUFFIX.format(title=f"Product {i}", kind=kind, price=20 + 7 * i) for i, kind in enumerate(KINDS)]
    out["prefix_tokens"] = len(lm.tokenizer(PREFIX)["input_ids"])
    out["suffix_tokens"] = round(sum(len(lm.tokenizer(s)["input_ids"]) for s in suffixes) / len(suffixes))
    lm.next_token_scores(PREFIX, suffixes[:2], ["Yes", "No"])  # warm-up
    start = time.perf_counter()
    scores = lm.next_token_scores(PREFIX, suffixes, ["Yes", "No"])
    out["score_10_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    for suffix in suffixes:  # the naive way: every prompt whole, one at a time
        lm.next_token_scores(PREFIX + suffix, [""], ["Yes", "No"])
    out["score_10_naive_s"] = round(time.perf_counter() - start, 2)
    out["p_yes_kids_jacket_vs_pan"] = [round(float(v), 3) for v in (scores[0, 0], scores[1, 0])]
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def run_stage(*args: str) -> dict:
    """One stage in a fresh process; its JSON result (or the error)."""
    proc = subprocess.run([sys.executable, __file__, "--stage", *args], capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if proc.returncode == 0 and lines else {"error": proc.stderr.strip()[-500:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="qwen,smollm2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=32, help="new tokens per decode measurement")
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        kind, name, fmt = args.stage
        if kind == "load":
            result = stage_load(name, fmt == "int8", args.threads)
        else:
            result = stage_speed(name, fmt == "int8", args.threads, args.tokens)
        print(json.dumps(result))
        return
    for name in args.models.split(","):
        for label in ("first", "cached"):
            print(f"{name} load ({label}, fp32):", run_stage("load", name, "fp32", "--threads", str(args.threads)),
                  flush=True)
        for fmt in ("fp32", "int8"):
            print(f"{name} {fmt}:", run_stage("speed", name, fmt, "--threads", str(args.threads),
                                              "--tokens", str(args.tokens)), flush=True)


if __name__ == "__main__":
    main()
