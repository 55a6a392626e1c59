"""Draw the demo interaction log: sessions of view, click, cart, purchase and rating events.

Each customer's hidden utility for every product drives a softmax over what they view; clicks,
carts and purchases follow with probabilities rising in that utility.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.demo.product_types import PRODUCT_TYPES
from assistant.demo.products import Catalog, pick
from assistant.demo.shoppers import (
    SEGMENT_AUDIENCE_BONUS, SEGMENT_TAG_BONUS, SEGMENTS, Customer,
)
from assistant.demo.taxonomy import AUDIENCES, CATEGORIES

WINDOW_SECONDS = 365 * 86_400
HOUR_WEIGHTS = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4, 4,
                         5, 4, 4, 4, 4, 5, 6, 7, 8, 7, 5, 2], dtype=float)

# What people tend to buy next after buying a product of a type.
COMPLEMENTS: dict[str, tuple[str, ...]] = {
    "Kids' Rain Jacket": ("Kids' Rain Boots", "Kids' Umbrella"),
    "Kids' Raincoat": ("Kids' Rain Boots", "Kids' Umbrella"),
    "Kids' Rain Suit": ("Kids' Rain Boots",),
    "Kids' Puffer Jacket": ("Kids' Snow Boots", "Kids' Winter Hat and Mittens Set"),
    "Kids' Winter Parka": ("Kids' Snow Boots", "Kids' Winter Hat and Mittens Set"),
    "Kids' Rain Boots": ("Kids' Rain Jacket", "Kids' Raincoat"),
    "Kids' Backpack": ("Kids' Lunch Box",),
    "Baby Stroller": ("Diaper Bag Backpack", "Baby Carrier"),
    "Convertible Car Seat": ("Baby Stroller",),
    "Baby Bottle Set": ("Silicone Bib Set", "Baby High Chair"),
    "Baby High Chair": ("Silicone Bib Set", "Toddler Plate and Cup Set"),
    "Baby Monitor": ("Baby Safety Gate", "Swaddle Blanket Set"),
    "Balance Bike": ("Kids' Bike Helmet",),
    "Kids' Scooter": ("Kids' Bike Helmet",),
    "Building Blocks Set": ("Toy Storage Bins",),
    "Laptop": ("Laptop Bag", "Wireless Mouse"),
    "Smartphone": ("Phone Case", "Power Bank"),
    "Tablet": ("Wireless Headphones",),
    "Game Controller": ("Gaming Headset",),
    "Gaming Headset": ("Game Controller", "Gaming Chair"),
    "Fitness Tracker": ("Running Shoes", "Sports Water Bottle"),
    "Yoga Mat": ("Resistance Bands Set", "Foam Roller"),
    "Adjustable Dumbbells": ("Kettlebell",),
    "Running Shoes": ("Fitness Tracker", "Sports Water Bottle"),
    "Camping Tent": ("Sleeping Bag", "LED Headlamp"),
    "Sleeping Bag": ("Camping Tent",),
    "Hiking Boots": ("Trekking Poles", "Hiking Backpack"),
    "Bike Helmet": ("Insulated Water Bottle",),
    "Walking Cane": ("Orthopedic Walking Shoes",),
    "Rollator Walker": ("Reacher Grabber Tool",),
    "Shower Chair": ("Grab Bar",),
    "Reading Glasses": ("Large Print Mystery Novel", "Magnifying Glass with Light"),
    "Big Button Mobile Phone": ("Personal Sound Amplifier",),
    "Raised Garden Bed": ("Seed Starter Kit", "Garden Kneeler and Seat"),
    "Expandable Garden Hose": ("Watering Can",),
    "Pruning Shears": ("Garden Gloves",),
    "Coffee Maker": ("Electric Kettle",),
    "Duvet Cover Set": ("Memory Foam Pillow",),
    "Women's Rain Jacket": ("Women's Ankle Boots",),
    "Men's Rain Jacket": ("Men's Chelsea Boots",),
}


@dataclass
class EventModel:
    """Per-product arrays and lookups shared by every customer's sessions."""

    catalog: Catalog
    base_utility: np.ndarray
    segment_bonus: dict[str, np.ndarray]
    audience: np.ndarray
    brand: np.ndarray
    color: np.ndarray
    subcategory: np.ndarray
    in_stock: np.ndarray
    products_by_category: list[np.ndarray]
    products_by_type: dict[str, np.ndarray]


def build_event_model(catalog: Catalog) -> EventModel:
    """Precompute the product-side parts of the utility."""
    rows = catalog.rows
    audience = np.array([AUDIENCES.index(r["audience"]) for r in rows])
    segment_bonus = {}
    for segment in SEGMENTS:
        tag_bonus = SEGMENT_TAG_BONUS[segment]
        by_tags = np.array([sum(tag_bonus.get(t, 0.0) for t in r["tags"]) for r in rows])
        segment_bonus[segment] = by_tags + np.array(SEGMENT_AUDIENCE_BONUS[segment])[audience]
    sub_names = sorted({r["category"] for r in rows})
    subcategory = np.array([sub_names.index(r["category"]) for r in rows])
    top = np.array([CATEGORIES.index(r["category"].split(" > ")[0]) for r in rows])
    by_type: dict[str, list[int]] = {}
    for i, t_index in enumerate(catalog.type_index):
        by_type.setdefault(PRODUCT_TYPES[t_index].noun, []).append(i)
    return EventModel(
        catalog=catalog,
        base_utility=0.5 * catalog.quality + 0.8 * catalog.log_popularity,
        segment_bonus=segment_bonus, audience=audience,
        brand=np.array([r["brand"] for r in rows]), color=np.array([r["color"] for r in rows]),
        subcategory=subcategory, in_stock=np.array([r["in_stock"] for r in rows]),
        products_by_category=[np.flatnonzero(top == c) for c in range(len(CATEGORIES))],
        products_by_type={k: np.array(v) for k, v in by_type.items()},
    )


def customer_utility(rng: np.random.Generator, model: EventModel, customer: Customer) -> np.ndarray:
    """Hidden utility of every product for one customer (before per-view noise)."""
    utility = model.base_utility + model.segment_bonus[customer.segment]
    side = AUDIENCES.index(customer.fashion_side)
    other = AUDIENCES.index("men" if customer.fashion_side == "women" else "women")
    utility = utility + 0.8 * (model.audience == side) - 1.6 * (model.audience == other)
    utility = utility + 1.2 * np.isin(model.brand, customer.favourite_brands)
    utility = utility + 0.6 * np.isin(model.color, customer.favourite_colors)
    utility = utility - customer.price_sensitivity * model.catalog.rel_log_price
    return utility + rng.normal(0.0, 0.4, size=utility.shape)  # idiosyncratic taste


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def _session_time(rng: np.random.Generator) -> int:
    day = int(rng.integers(0, 365))
    hour = int(rng.choice(24, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()))
    return day * 86_400 + hour * 3_600 + int(rng.integers(0, 3_600))


class EventLog:
    """Collects (time, customer, sequence, product, event, value) tuples."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, str, str]] = []

    def add(self, t: int, customer: int, product: int, event: str, value: str = "") -> None:
        if 0 <= t < WINDOW_SECONDS:
            self.rows.append((t, customer, len(self.rows), product, event, value))


def run_session(rng: np.random.Generator, model: EventModel, log: EventLog, customer: int,
                utility: np.ndarray, candidates: np.ndarray, t: int, boost: float = 0.0,
                follow_up: bool = True) -> None:
    """One browsing session: views by softmax (Gumbel top-k), then clicks, carts, purchases."""
    u = utility[candidates]
    scores = u + rng.gumbel(size=len(candidates))
    anchor = int(np.argmax(scores))
    if rng.random() < 0.7:  # most sessions stay within the anchor's subcategory
        same = model.subcategory[candidates] == model.subcategory[candidates[anchor]]
        scores = np.where(same, scores, -np.inf)
    k = min(int(rng.geometric(0.27)), 12, int(np.isfinite(scores).sum()))
    viewed = np.argsort(-scores, kind="stable")[:k]
    spread = float(u.std()) or 1.0
    z = (u - float(u.mean())) / spread
    carted: list[int] = []
    for j in viewed.tolist():
        product = int(candidates[j])
        log.add(t, customer, product, "view")
        t += int(rng.integers(8, 90))
        if rng.random() < _sigmoid(-1.5 + 0.8 * z[j] + boost):
            log.add(t, customer, product, "click")
            t += int(rng.integers(15, 180))
            if model.in_stock[product] and rng.random() < _sigmoid(-1.5 + 0.7 * z[j] + boost):
                log.add(t, customer, product, "cart")
                t += int(rng.integers(5, 60))
                carted.append(j)
    t += int(rng.integers(30, 400))
    for j in carted:
        product = int(candidates[j])
        quality = model.catalog.quality[product]
        if rng.random() >= _sigmoid(0.0 + 0.5 * z[j] + 0.3 * quality + boost):
            continue
        quantity = 1 if rng.random() < 0.86 else int(rng.choice([2, 3], p=[0.75, 0.25]))
        log.add(t, customer, product, "purchase", str(quantity))
        if rng.random() < 0.35:
            stars = np.clip(np.round(3.4 + 0.9 * quality + 0.35 * z[j] + rng.normal(0, 0.7)), 1, 5)
            log.add(t + int(rng.integers(2, 21)) * 86_400 + int(rng.integers(0, 86_400)),
                    customer, product, "rating", str(int(stars)))
        if follow_up:
            _maybe_follow_up(rng, model, log, customer, utility, product, t)
        t += int(rng.integers(3, 30))


def _maybe_follow_up(rng: np.random.Generator, model: EventModel, log: EventLog, customer: int,
                     utility: np.ndarray, product: int, t: int) -> None:
    """Co-purchase structure: after buying X, often come back for a complement of X."""
    noun = PRODUCT_TYPES[model.catalog.type_index[product]].noun
    complements = COMPLEMENTS.get(noun, ())
    if not complements or rng.random() >= 0.6:
        return
    target = model.products_by_type[pick(rng, complements)]
    delay = int(rng.exponential(2.5 * 86_400)) + 600
    run_session(rng, model, log, customer, utility, target, t + delay, boost=1.0, follow_up=False)


def generate_events(rng: np.random.Generator, model: EventModel,
                    customers: list[Customer]) -> list[tuple[int, int, int, int, str, str]]:
    """All customers' sessions, sorted by time, then customer, then order of occurrence."""
    log = EventLog()
    for c_index, customer in enumerate(customers):
        utility = customer_utility(rng, model, customer)
        starts = sorted(_session_time(rng) for _ in range(customer.sessions))
        for start in starts:
            category = int(rng.choice(len(CATEGORIES), p=customer.category_mix))
            run_session(rng, model, log, c_index, utility, model.products_by_category[category],
                        start)
    log.rows.sort()
    return log.rows

