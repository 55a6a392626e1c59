"""Benchmark: the LLM's one-line reasons and the grounding check that guards them (docs/llm.md, "Reasons").

  python benchmarks/reason_check.py harvest --store demo --out drafts.jsonl [--limit N] [--prompt facts]
      Runs the store's labelled requests (assistant/evaluation/data/) through the assistant, writes the
      reasons of each case's last turn with the packaged LLM, and saves one JSON line per reason: the
      request, the product, the LLM's draft, what was shown, who wrote it and the check's verdict.
  python benchmarks/reason_check.py score assistant/evaluation/data/reasons_labelled.jsonl
      Re-runs today's check on each labelled draft and prints its precision and recall for "reject the
      bad ones" (a draft labelled false is a positive), for the set the check was tuned on ("tuning") and
      the one labelled after ("held-out").
  python benchmarks/reason_check.py recheck drafts.jsonl
      Today's check on saved drafts: the share that passes, and the share of reasons LLM-written.
  python benchmarks/reason_check.py compare card.jsonl facts.jsonl
      The LLM-written share of harvests on the cases they share, with and without the cut-back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.core.config import load_settings  # noqa: E402
from assistant.ingest.catalog import Product  # noqa: E402
from assistant.reasons import check_reason, explain, grounded_sentence  # noqa: E402
from assistant.understand import Conversation, Request  # noqa: E402
from assistant.understand.store import StoreProfile  # noqa: E402

STORES = {"demo": ("demo", "requests.jsonl"), "completejourney": ("completejourney", "completejourney_requests.jsonl")}
DATA = Path(__file__).resolve().parent.parent / "assistant" / "evaluation" / "data"


def store_profile(index_dir: Path, name: str) -> StoreProfile:
    """The store profile saved with a published index."""
    return StoreProfile.from_dict(json.loads((index_dir / name / "profile.json").read_text(encoding="utf-8")))


def harvest(args: argparse.Namespace) -> None:
    from assistant.service.assistant import Assistant

    index_name, requests_file = STORES[args.store]
    settings = load_settings().with_overrides(index_name=index_name)
    assistant = Assistant(settings)
    lm = assistant.language_model()
    if lm is None:
        raise SystemExit(f"no language model: {assistant.language_model_problem()}")
    profile = assistant.store_profile()
    cases = [json.loads(line) for line in (DATA / requests_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = cases[args.start:args.limit or None]
    seconds = []
    with open(args.out, "w", encoding="utf-8") as out:
        for case in cases:
            conversation = Conversation()
            rec = None
            for message in case["turns"]:
                rec = assistant.recommend(message, conversation, segment=case.get("segment"), k=5)
            record = assistant.turn(rec.turn_id)
            matches = [c for c in record.result.candidates if not c.breakdown.relaxes]
            started = time.perf_counter()
            reasons = explain(lm, record.request, matches, settings.reason_tokens, store=profile, style=args.prompt)
            seconds.append(time.perf_counter() - started)
            for candidate, reason in zip(matches, reasons):
                out.write(json.dumps({
                    "store": args.store, "case": case["id"], "language": record.request.language,
                    "message": record.message, "request": record.request.to_dict(),
                    "product": candidate.product.to_dict(),
                    "others": [c.product.to_dict() for c in matches if c is not candidate], "draft": reason.draft, "shown": reason.text,
                    "source": reason.source, "check": reason.check}, ensure_ascii=False) + "\n")
            print(f"{case['id']}: {sum(r.source == 'llm' for r in reasons)}/{len(reasons)} llm, "
                  f"{seconds[-1]:.2f} s", flush=True)
    seconds.sort()
    print(f"{len(cases)} turns; reasons p50 {seconds[len(seconds) // 2]:.2f} s, max {seconds[-1]:.2f} s")


def _recheck(row: dict, profiles: dict[str, StoreProfile]) -> str | None:
    request = Request.from_dict(row["request"])
    product = Product.from_dict(row["product"])
    others = [Product.from_dict(p) for p in row.get("others", [])]
    if not row["draft"]:
        return "no draft"
    if getattr(_recheck, "cut_back", True):  # as `explain` does: the longest start that passes
        return grounded_sentence(row["draft"], product, request, others, profiles[row["store"]])[1]
    return check_reason(row["draft"], product, request, others, store=profiles[row["store"]])


def _profiles(index_dir: Path) -> dict[str, StoreProfile]:
    return {store: store_profile(index_dir, name) for store, (name, _) in STORES.items()}


def recheck(args: argparse.Namespace) -> None:
    profiles = _profiles(Path(args.index_dir))
    rows = [json.loads(line) for path in args.files for line in open(path, encoding="utf-8") if line.strip()]
    failures = Counter()
    passed = 0
    for row in rows:
        failure = _recheck(row, profiles)
        passed += failure is None
        if failure is not None:
            failures[failure.split(" (")[0].split(":")[0][:50]] += 1
        if args.show and failure is not None:
            print(f"REJECT {row['draft']!r}\n   -> {failure}")
    print(f"{len(rows)} drafts: {passed} pass today's check ({passed / max(len(rows), 1):.1%}), so LLM-written")
    for what, count in failures.most_common(20):
        print(f"  {count:4d}  {what}")


def compare(args: argparse.Namespace) -> None:
    """The LLM-written share of two harvests on the cases both have, with and without the cut-back."""
    profiles = _profiles(Path(args.index_dir))
    runs = {path: [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()] for path in args.files}
    common = set.intersection(*({r["case"] for r in rows} for rows in runs.values()))
    for path, rows in runs.items():
        rows = [r for r in rows if r["case"] in common]
        for cut in (False, True):
            _recheck.cut_back = cut
            ok = sum(_recheck(r, profiles) is None for r in rows)
            print(f"{path}: cut back {'yes' if cut else 'no '}  {len(common)} turns, {ok} of {len(rows)} reasons "
                  f"LLM-written and passing ({ok / max(len(rows), 1):.1%})")


def score(args: argparse.Namespace) -> None:
    profiles = _profiles(Path(args.index_dir))
    _recheck.cut_back = False  # a label is about the draft as written, not a shorter sentence cut from it
    every = [json.loads(line) for line in open(args.labelled, encoding="utf-8") if line.strip()]
    for split in sorted({r.get("split", "") for r in every}) + ["all"]:
        print(f"-- {split}")
        _score([r for r in every if split == "all" or r.get("split", "") == split], profiles, args.show)


def _score(rows: list[dict], profiles: dict[str, StoreProfile], show: bool) -> None:
    tp = fp = fn = tn = 0
    for row in rows:
        rejected = _recheck(row, profiles) is not None
        bad = not row["true"]
        tp += rejected and bad
        fp += rejected and not bad
        fn += bad and not rejected
        tn += not bad and not rejected
        if show and rejected != bad:
            print(("FALSE ALARM " if rejected else "MISSED ") + repr(row["draft"]) + " — " + row.get("note", ""))
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    specific = sum(r["specific"] for r in rows if r["true"])
    print(f"{len(rows)} labelled drafts: {tp + fn} false, {fp + tn} true ({specific} of them specific)")
    print(f"check rejects {tp + fp}: precision {precision:.3f}, recall {recall:.3f} "
          f"(tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    unfit = [(_recheck(r, profiles) is not None, not (r["true"] and r["specific"])) for r in rows]
    tp2 = sum(a and b for a, b in unfit)
    print(f"as 'reject what should not be shown' (false or generic, {sum(b for _, b in unfit)}): precision "
          f"{tp2 / max(sum(a for a, _ in unfit), 1):.3f}, recall {tp2 / max(sum(b for _, b in unfit), 1):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("harvest")
    one.add_argument("--store", choices=sorted(STORES), default="demo")
    one.add_argument("--out", required=True)
    one.add_argument("--start", type=int, default=0, help="first case (0-based)")
    one.add_argument("--limit", type=int, default=0, help="stop before this case (0: all)")
    one.add_argument("--prompt", default="facts", help="'facts' (the matched facts) or 'card' (the raw product)")
    one.set_defaults(run=harvest)
    two = sub.add_parser("recheck")
    two.add_argument("files", nargs="+")
    two.add_argument("--index-dir", default="index")
    two.add_argument("--show", action="store_true")
    two.set_defaults(run=recheck)
    four = sub.add_parser("compare")
    four.add_argument("files", nargs="+", help="harvests of the same store (e.g. --prompt card and --prompt facts)")
    four.add_argument("--index-dir", default="index")
    four.set_defaults(run=compare)
    three = sub.add_parser("score")
    three.add_argument("labelled")
    three.add_argument("--index-dir", default="index")
    three.add_argument("--show", action="store_true")
    three.set_defaults(run=score)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
