"""The store's data chooses its CF model (`aisle cf fit`), `aisle eval cf` against tuned peers, batch
recommendations (`aisle cf recommend`), and what a known shopper already has."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.behaviour import build_interactions, load_cf_model, make_cf_model
from assistant.behaviour.selection import ModelChoice, choice_of, fit_choice, fit_store_model, select_model
from assistant.evaluation.cf_comparison import buy_again, compare_cf, format_comparison
from assistant.ingest.customers import InteractionLog
from assistant.service.turn import already_had
from assistant.surfaces.cli import main


def _taste_log(shoppers: int = 120, seed: int = 3) -> InteractionLog:
    """Two tastes: shoppers of even number buy from products 0-9, odd ones from 10-19, in time order, with
    one very popular product (P0020) everyone looks at first. Item models should beat popularity."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(shoppers):
        block = 0 if c % 2 == 0 else 10
        rows.append((f"c{c}", "P0020", "view", 1000.0 * c, math.nan))
        for t, item in enumerate(rng.choice(10, size=4, replace=False)):
            rows.append((f"c{c}", f"P{block + item:04d}", "purchase", 1000.0 * c + t + 1, 1.0))
    return InteractionLog.from_rows(rows)


@pytest.fixture(scope="module")
def taste_log() -> InteractionLog:
    return _taste_log()


def test_selection_prefers_what_the_data_supports_and_is_repeatable(taste_log: InteractionLog) -> None:
    families = ("popularity", "item_item", "ease", "blend")
    first = select_model(taste_log, k=5, families=families)
    again = select_model(taste_log, k=5, families=families)
    assert first.chosen == again.chosen
    assert [t.ndcg for t in first.trials] == [t.ndcg for t in again.trials]
    best = {f: first.best(f) for f in families}
    assert best["item_item"].ndcg > 1.5 * best["popularity"].ndcg  # tastes are learnable here
    assert first.chosen.model != "popularity"
    chosen = next(t for t in first.trials if t.choice == first.chosen)
    assert chosen.ndcg == max(t.ndcg for t in first.trials)
    assert "Chosen:" in first.format() and first.to_dict()["best_per_family"]["ease"]["ndcg"] > 0


def test_a_choice_round_trips_and_fits_with_its_decays(taste_log: InteractionLog) -> None:
    choice = ModelChoice("blend", {"weights": {"ease": 1.0, "popularity": 0.5}, "parts": {"ease": {"l2": 50.0}}},
                         None, None)
    assert ModelChoice.from_dict(json.loads(json.dumps(choice.to_dict()))) == choice
    model = fit_choice(taste_log, choice)
    assert model.trained.meta["profile_half_life_days"] is None
    assert choice_of(model) == ModelChoice("blend", {"weights": {"ease": 1.0, "popularity": 0.5},
                                                     "parts": {"ease": {"l2": 50.0}, "popularity": {}}}, None, None)
    assert "whole history" in choice.label() and "plain counts" in choice.label()


def test_two_fits_of_the_chosen_model_are_identical(taste_log: InteractionLog, tmp_path: Path) -> None:
    """Same data, same model: the learned arrays and the interactions saved match exactly."""
    folders = []
    for n in range(2):
        model, line = fit_store_model(taste_log, setting="auto")
        assert "chosen on this store's data" in line and model.selection["trials"] > 10
        folders.append(model.save(tmp_path / f"m{n}"))
    loaded = [load_cf_model(f) for f in folders]
    assert loaded[0].params == loaded[1].params and loaded[0].selection == loaded[1].selection
    for name in ("arrays.npz", "matrix.npz"):
        with np.load(folders[0] / name) as a, np.load(folders[1] / name) as b:
            assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files)


def test_too_little_data_to_choose_falls_back_to_the_default_model() -> None:
    log = InteractionLog.from_rows([("a", "x", "purchase", 1.0, 1.0), ("a", "y", "view", 2.0, math.nan)])
    model, line = fit_store_model(log, setting="auto")
    assert model.name == "blend" and "too little data to choose" in line


def test_a_refit_keeps_the_earlier_choice_and_a_named_model_is_fitted_as_named(taste_log: InteractionLog) -> None:
    previous = ModelChoice("ease", {"l2": 50.0}, 30.0)
    model, line = fit_store_model(taste_log, setting="auto", previous=previous)
    assert model.name == "ease" and model.params["l2"] == 50.0 and "chosen earlier" in line
    named, line = fit_store_model(taste_log, setting="item_item")
    assert named.name == "item_item" and named.selection is None and "set by cf_model" in line


def test_compare_cf_reports_peers_standard_errors_and_a_paired_difference(taste_log: InteractionLog) -> None:
    comparison = compare_cf(taste_log, k=5, families=("popularity", "item_item", "ease", "blend"), store="tiny")
    names = [r.name for r in comparison.results]
    assert names == ["popularity", "item_item", "ease", "blend", "default"]
    default = comparison.default
    assert default.users > 50 and 0 < default.se < default.ndcg
    assert comparison.paired is not None and comparison.paired.peer in ("item_item", "ease")
    peer = next(r for r in comparison.results if r.name == comparison.paired.peer)
    assert comparison.paired.difference == pytest.approx(default.ndcg - peer.ndcg)
    text = format_comparison(comparison)
    assert "default vs best tuned peer" in text and "± se" in text
    assert json.loads(json.dumps(comparison.to_dict()))["default_vs_best_peer"]["peer"] == comparison.paired.peer


def test_buy_again_is_measured_on_a_store_that_repeats(tmp_path: Path) -> None:
    rows = [(f"c{c}", p, "purchase", 10.0 * c + t, 1.0) for c in range(10)
            for t, p in enumerate(["milk", "bread", "milk", "eggs" if c % 2 else "milk"])]
    measured = buy_again(InteractionLog.from_rows(rows), k=3)
    assert measured.repurchase_share == 1.0 and measured.shoppers == 10
    assert measured.repeat_share == pytest.approx(0.5)  # even shoppers end on milk again
    assert measured.hit_rate == 0.5  # every repeat is caught; a new product (eggs) cannot be


def test_a_known_shopper_is_not_shown_what_they_had_unless_buying_again_is_normal() -> None:
    rows = [(f"u{i}", p, "purchase", float(i), 1.0) for i in range(6) for p in ("x", "y", "z")]
    rows += [("me", "x", "view", 10.0, 1.0), ("me", "y", "rating", 11.0, 1.0)]
    model = make_cf_model("item_item").fit(build_interactions(InteractionLog.from_rows(rows)))
    assert already_had(model, "me") == {"x", "y"} and already_had(model, "stranger") == set()
    again = rows + [(f"u{i}", "x", "purchase", 20.0 + i, 1.0) for i in range(6)]  # everyone buys x twice
    grocer = make_cf_model("item_item").fit(build_interactions(InteractionLog.from_rows(again)))
    assert grocer.trained.repurchase_normal and already_had(grocer, "me") == set()


# ---------------------------------------------------------------------------- the commands


def _write_logs(folder: Path) -> tuple[Path, Path]:
    log = _taste_log(60)
    events = folder / "events.csv"
    lines = ["customer_id,product_id,event,timestamp,value"]
    lines += [f"{c},{p},{e},{int(t)},{'' if math.isnan(v) else v}"
              for c, p, e, t, v in zip(log.customers, log.products, log.events, log.timestamps, log.values)]
    events.write_text("\n".join(lines) + "\n")
    customers = folder / "customers.csv"
    customers.write_text("customer_id,segment\n" + "".join(f"c{c},{'even' if c % 2 == 0 else 'odd'}\n"
                                                            for c in range(60)) + "newcomer,even\n")
    return events, customers


def test_cf_fit_says_what_it_chose_and_saves_it(tmp_path: Path) -> None:
    events, customers = _write_logs(tmp_path)
    env = {"AISLE_STATE_DIR": str(tmp_path / "state")}
    out = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "index"), "cf", "fit", "--interactions",
                                    str(events), "--customers", str(customers), "--name", "shop", "--quiet"],
                             env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "Chosen on a temporal validation split" in out.output and "→" in out.output
    manifest = json.loads((tmp_path / "index" / ".cf" / "shop" / "manifest.json").read_text())
    assert manifest["selection"]["label"] in out.output and manifest["data"]["span_days"] > 0


def test_cf_recommend_writes_one_line_per_customer_without_what_they_have(tmp_path: Path) -> None:
    events, customers = _write_logs(tmp_path)
    out_file = tmp_path / "recs.jsonl"
    out = CliRunner().invoke(main, ["cf", "recommend", "--interactions", str(events), "--customers", str(customers),
                                    "-k", "3", "--json", "--out", str(out_file), "--model", "item_item", "--quiet"],
                             env={"AISLE_STATE_DIR": str(tmp_path / "state")}, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    lines = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [row["customer_id"] for row in lines] == [f"c{c}" for c in range(60)] + ["newcomer"]
    log = _taste_log(60)
    had: dict[str, set[str]] = {}
    for c, p in zip(log.customers.tolist(), log.products.tolist()):
        had.setdefault(c, set()).add(p)
    for row in lines[:-1]:
        assert len(row["items"]) == 3 and not had[row["customer_id"]] & set(row["items"])
        block = 0 if int(row["customer_id"][1:]) % 2 == 0 else 10  # their own taste first
        assert int(row["items"][0][1:]) // 10 == block // 10
    assert len(lines[-1]["items"]) == 3  # a newcomer gets the popular products of their segment
    tsv = CliRunner().invoke(main, ["cf", "recommend", "--interactions", str(events), "--customers",
                                    str(customers), "-k", "2", "--model", "popularity", "--quiet"],
                             env={"AISLE_STATE_DIR": str(tmp_path / "state")}, catch_exceptions=False)
    first = tsv.output.splitlines()[0].split("\t")
    assert first[0] == "c0" and len(first[1].split(",")) == 2


def test_cf_fit_infers_segments_for_shoppers_without_one(settings, tmp_path: Path) -> None:
    """Shoppers who buy rain jackets are 'walkers', those who buy pans 'cooks'; half have no segment given,
    and the fitted model places them from their baskets."""
    from conftest import shop_over

    shop_over(settings, 16)  # products P0000..P0015: kinds repeat every 8 (P0000 rain jacket, P0007 pan)
    jackets, pans = ["P0000", "P0008"], ["P0007", "P0015"]
    lines = ["customer_id,product_id,event,timestamp"]
    segments = ["customer_id,segment"]
    for c in range(40):
        basket = jackets if c % 2 == 0 else pans
        lines += [f"s{c},{p},purchase,{1700000000 + 100 * c + t}" for t, p in enumerate(basket)]
        if c < 20:
            segments.append(f"s{c},{'walkers' if c % 2 == 0 else 'cooks'}")
    (tmp_path / "e.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "c.csv").write_text("\n".join(segments) + "\n")
    out = CliRunner().invoke(main, ["--index-dir", str(settings.index_dir), "cf", "fit", "--interactions",
                                    str(tmp_path / "e.csv"), "--customers", str(tmp_path / "c.csv"), "--name", "shop",
                                    "--model", "popularity", "--infer-segments", "--quiet"],
                             env={"AISLE_STATE_DIR": str(settings.state_dir)}, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    model = load_cf_model(settings.index_dir / ".cf" / "shop")
    from assistant.privacy.keys import pseudonymizer
    pseudonymize = pseudonymizer(settings.state_dir)
    placed = {c: model.trained.segments[model.trained.user_index[pseudonymize(f"s{c}")]] for c in range(20, 40)}
    assert placed == {c: ("walkers" if c % 2 == 0 else "cooks") for c in range(20, 40)}


@pytest.mark.slow
def test_the_demo_store_ships_the_choice_selection_makes_on_its_log() -> None:
    """The demo starts in seconds because the choice is shipped; it must be what `aisle cf fit` would choose."""
    from assistant.demo import cf_choice_path
    from assistant.evaluation.stores import demo_cf_selection

    selection = demo_cf_selection()
    shipped = json.loads(cf_choice_path().read_text())
    redo = "the demo data changed: re-derive its choice with assistant.evaluation.stores.write_demo_cf_choice()"
    summary = json.loads(json.dumps(selection.to_dict()))
    assert {k: shipped["selection"][k] for k in ("k", "validation_shoppers", "validation_events", "trials")} == \
        {k: summary[k] for k in ("k", "validation_shoppers", "validation_events", "trials")}, redo
    # Another CPU's rounding breaks ties differently (ALS alpha 2 and 10 both score 0.0893 on the demo log, so
    # the blend built on them differs: 0.1970 vs 0.1964). The shipped choice must be of the family chosen here,
    # each family's best must score as shipped within 0.005, and the chosen one within its standard error.
    family = ModelChoice.from_dict(shipped["choice"]).model
    assert selection.chosen.model == family, redo
    for name, best in shipped["selection"]["best_per_family"].items():
        assert abs(summary["best_per_family"][name]["ndcg"] - best["ndcg"]) <= 0.005, (redo, name)
    here = summary["best_per_family"][family]
    assert abs(here["ndcg"] - shipped["selection"]["best_per_family"][family]["ndcg"]) <= here["se"], redo


def test_a_big_log_is_chosen_on_a_sample_of_whole_shoppers(taste_log: InteractionLog) -> None:
    from assistant.behaviour.selection import shopper_sample

    assert shopper_sample(taste_log, len(taste_log)) is taste_log
    sample = shopper_sample(taste_log, len(taste_log) // 2)
    assert 0.25 * len(taste_log) < len(sample) < 0.75 * len(taste_log)
    kept = set(sample.customers.tolist())
    whole = {c: int((taste_log.customers == c).sum()) for c in kept}
    assert all(int((sample.customers == c).sum()) == n for c, n in whole.items())  # whole shoppers
    assert shopper_sample(taste_log, len(taste_log) // 2).customers.tolist() == sample.customers.tolist()
    selection = select_model(taste_log, k=5, families=("popularity", "item_item"), max_events=len(taste_log) // 2)
    assert selection.sampled and "sample of the log's shoppers" in selection.format()
