"""Draw the demo customers: a segment each, a visible profile and hidden tastes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.demo.taxonomy import CATEGORIES, CATEGORY_BRANDS, COLORS

N_CUSTOMERS = 1_800

SEGMENTS = ["young_adults", "parents_young_kids", "retirees", "professionals",
            "fitness_enthusiasts"]
SEGMENT_SHARE = [0.31, 0.30, 0.27, 0.07, 0.05]
# Relative interest in each top-level category (CATEGORIES order).
SEGMENT_CATEGORY_WEIGHTS = {
    #                     Kids Toys Baby Women Men  Elec Fit  Home Gard Hlth Book Outd
    "young_adults":        [0.4, 0.4, 0.2, 3.0, 3.0, 5.5, 3.0, 1.5, 0.3, 0.3, 1.0, 2.5],
    "parents_young_kids":  [6.5, 4.0, 4.0, 1.5, 1.0, 1.0, 0.6, 3.0, 0.7, 0.5, 1.5, 1.0],
    "retirees":            [0.4, 0.8, 0.2, 1.0, 1.0, 1.0, 0.6, 3.0, 4.0, 5.5, 3.5, 0.8],
    "professionals":       [0.3, 0.3, 0.2, 2.5, 2.5, 4.0, 1.5, 3.0, 0.8, 0.5, 1.5, 1.0],
    "fitness_enthusiasts": [0.3, 0.3, 0.1, 1.5, 1.5, 2.0, 6.0, 1.0, 0.4, 0.5, 0.5, 4.0],
}
SEGMENT_AUDIENCE_BONUS = {  # AUDIENCES order: kids baby women men seniors unisex adults
    "young_adults":        [-1.5, -2.0, 0.0, 0.0, -2.5, 0.3, 0.3],
    "parents_young_kids":  [1.2, 1.0, 0.0, 0.0, -2.0, 0.0, 0.0],
    "retirees":            [-0.3, -1.0, 0.0, 0.0, 1.5, 0.0, 0.0],
    "professionals":       [-1.5, -2.0, 0.0, 0.0, -2.0, 0.0, 0.3],
    "fitness_enthusiasts": [-1.5, -2.0, 0.0, 0.0, -2.0, 0.3, 0.2],
}
SEGMENT_TAG_BONUS = {
    "young_adults": {"wireless": 0.6, "trendy": 0.8, "noise-cancelling": 0.4, "compact": 0.2,
                     "oversized": 0.4},
    "parents_young_kids": {"durable": 0.5, "machine-washable": 0.5, "easy-clean": 0.3,
                           "bpa-free": 0.3, "reflective": 0.3, "waterproof": 0.3},
    "retirees": {"easy-grip": 0.7, "large-print": 0.8, "non-slip": 0.5, "lightweight": 0.3,
                 "large buttons": 0.7, "easy-to-use": 0.4, "trendy": -0.5},
    "professionals": {"wireless": 0.4, "wrinkle-resistant": 0.5, "compact": 0.3},
    "fitness_enthusiasts": {"quick-dry": 0.5, "breathable": 0.4, "heart-rate monitor": 0.6,
                            "lightweight": 0.3},
}
SEGMENT_PRICE_SENSITIVITY = {"young_adults": 1.3, "parents_young_kids": 1.0, "retirees": 0.8,
                             "professionals": 0.3, "fitness_enthusiasts": 0.7}
SEGMENT_AGE_BANDS = {
    "young_adults": (["18-24", "25-34"], [0.55, 0.45]),
    "parents_young_kids": (["25-34", "35-44", "45-54"], [0.45, 0.5, 0.05]),
    "retirees": (["55-64", "65-74", "75+"], [0.1, 0.55, 0.35]),
    "professionals": (["25-34", "35-44", "45-54", "55-64"], [0.35, 0.3, 0.25, 0.1]),
    "fitness_enthusiasts": (["18-24", "25-34", "35-44"], [0.3, 0.45, 0.25]),
}
SEGMENT_HOUSEHOLDS = {
    "young_adults": (["single", "couple"], [0.6, 0.4]),
    "parents_young_kids": (["family_young_kids"], [1.0]),
    "retirees": (["retired_couple", "living_alone"], [0.55, 0.45]),
    "professionals": (["single", "couple", "family_teens"], [0.4, 0.4, 0.2]),
    "fitness_enthusiasts": (["single", "couple"], [0.55, 0.45]),
}


@dataclass
class Customer:
    """A customer's visible profile and hidden preferences."""

    id: str
    segment: str
    age_band: str
    household: str
    category_mix: np.ndarray
    favourite_brands: list[str]
    favourite_colors: list[str]
    fashion_side: str
    price_sensitivity: float
    sessions: int


def generate_customers(rng: np.random.Generator, count: int = N_CUSTOMERS) -> list[Customer]:
    """Draw customers: a segment, a visible profile and hidden tastes."""
    customers = []
    for number in range(1, count + 1):
        segment = SEGMENTS[int(rng.choice(len(SEGMENTS), p=SEGMENT_SHARE))]
        bands, band_p = SEGMENT_AGE_BANDS[segment]
        homes, home_p = SEGMENT_HOUSEHOLDS[segment]
        weights = np.array(SEGMENT_CATEGORY_WEIGHTS[segment], dtype=float)
        mix = rng.dirichlet(14.0 * weights / weights.sum() + 0.02)
        top_categories = np.argsort(-mix, kind="stable")[:3]
        brand_pool = [b for c in top_categories for b in CATEGORY_BRANDS[CATEGORIES[c]]]
        n_brands = int(rng.integers(1, 4))
        favourite_brands = [brand_pool[i] for i in
                            sorted(rng.choice(len(brand_pool), n_brands, replace=False).tolist())]
        favourite_colors = [COLORS[i] for i in sorted(rng.choice(len(COLORS), 2, replace=False).tolist())]
        customers.append(Customer(
            id=f"C{number:05d}", segment=segment,
            age_band=bands[int(rng.choice(len(bands), p=band_p))],
            household=homes[int(rng.choice(len(homes), p=home_p))],
            category_mix=mix, favourite_brands=favourite_brands,
            favourite_colors=favourite_colors,
            fashion_side="women" if rng.random() < 0.5 else "men",
            price_sensitivity=SEGMENT_PRICE_SENSITIVITY[segment] * float(rng.lognormal(0.0, 0.3)),
            sessions=int(np.clip(np.ceil(rng.lognormal(1.55, 1.05)), 1, 150)),
        ))
    return customers

