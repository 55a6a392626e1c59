"""Store vocabulary of the demo generator: colours, audiences, brands and their tiers, sizes.

Also `ProductType`, the record that says how the products of one kind are drawn; the table of
types itself is in `assistant.demo.product_types`.
"""

from __future__ import annotations

from dataclasses import dataclass

COLORS = ["black", "white", "navy", "blue", "red", "green", "yellow", "pink", "purple",
          "grey", "beige", "brown", "orange", "teal"]
AUDIENCES = ["kids", "baby", "women", "men", "seniors", "unisex", "adults"]

# ---------------------------------------------------------------------------- brands

BRAND_TIERS = {
    "Puddlejump": "mid", "Little Otter": "mid", "Tiny Trails": "budget", "Sprout & Sky": "premium",
    "Northpeak": "premium", "Rainbird": "budget", "Minikin": "mid", "Acorn Kids": "budget",
    "Polar Cub": "premium", "Bramble": "mid", "Blockwise": "mid", "Wonderbox": "premium",
    "Playfield": "budget", "Tinker Town": "mid", "Huggabear": "budget", "Starling Toys": "premium",
    "Zoomkit": "mid", "Puzzle Grove": "budget", "Cuddlenest": "mid", "Babelle": "premium",
    "Nestling": "budget", "Moonbeam Baby": "mid", "Safeguard": "mid", "Kindred": "mid",
    "Aurelle": "premium", "Loom & Lane": "mid", "Basics Co": "budget", "Verve Street": "mid",
    "Solstice": "budget", "Maison Ivy": "premium", "Forge & Field": "mid",
    "Harlow Tailoring": "premium", "Dockside": "budget", "Granite": "mid", "Brightline": "budget",
    "Voltra": "mid", "Sonique": "premium", "Pixelforge": "mid", "Nimbus Tech": "premium",
    "Easyline": "budget", "Pulse": "mid", "Arcbyte": "mid", "Zenko": "budget",
    "Lumen Labs": "premium", "Ironroot": "mid", "Flexcore": "budget", "Stridewell": "premium",
    "Zenflow": "mid", "Peak Form": "mid", "Steadfast": "mid", "Hydra": "budget",
    "Evergreen & Co": "premium", "Hearthside": "mid", "Copperleaf": "premium",
    "Simply Home": "budget", "Nookhaven": "mid", "EasyReach": "budget", "Kettle & Crumb": "mid",
    "Greenthumb": "budget", "Fernway": "mid", "Bloomfield": "mid", "Rootstock": "premium",
    "Sunporch": "mid", "Clearview": "mid", "Carewell": "mid", "Silverline": "premium",
    "Vitalis": "budget", "Comfortstep": "mid", "Northwind Press": "mid", "Lantern Books": "budget",
    "Big Letter Press": "mid", "Acorn Press": "budget", "Harbor House": "premium",
    "Starling Books": "mid", "Bluebell Press": "mid", "Quill & Ink": "mid", "Paperkite": "budget",
    "Trailmark": "mid", "Summit Supply": "premium", "Campfire Co": "budget", "Ridgeback": "mid",
    "Wayfarer": "mid",
}

CATEGORY_BRANDS = {
    "Kids": ["Puddlejump", "Little Otter", "Tiny Trails", "Sprout & Sky", "Northpeak", "Rainbird",
             "Minikin", "Acorn Kids", "Polar Cub", "Bramble"],
    "Toys": ["Little Otter", "Blockwise", "Wonderbox", "Playfield", "Tinker Town", "Huggabear",
             "Starling Toys", "Zoomkit", "Puzzle Grove"],
    "Baby": ["Little Otter", "Sprout & Sky", "Cuddlenest", "Babelle", "Tiny Trails", "Nestling",
             "Moonbeam Baby", "Safeguard"],
    "Women's Fashion": ["Kindred", "Aurelle", "Loom & Lane", "Basics Co", "Northpeak",
                        "Verve Street", "Solstice", "Maison Ivy", "Rainbird"],
    "Men's Fashion": ["Kindred", "Basics Co", "Northpeak", "Verve Street", "Forge & Field",
                      "Harlow Tailoring", "Dockside", "Granite", "Solstice"],
    "Electronics": ["Brightline", "Voltra", "Sonique", "Pixelforge", "Nimbus Tech", "Easyline",
                    "Pulse", "Arcbyte", "Zenko", "Lumen Labs"],
    "Fitness": ["Pulse", "Ironroot", "Flexcore", "Stridewell", "Zenflow", "Peak Form", "Steadfast",
                "Hydra"],
    "Home & Kitchen": ["Brightline", "Evergreen & Co", "Hearthside", "Copperleaf", "Simply Home",
                       "Little Otter", "Nookhaven", "EasyReach", "Kettle & Crumb"],
    "Garden": ["Evergreen & Co", "Greenthumb", "Fernway", "Bloomfield", "EasyReach", "Rootstock",
               "Sunporch", "Little Otter"],
    "Health & Mobility": ["Steadfast", "EasyReach", "Clearview", "Carewell", "Silverline",
                          "Easyline", "Vitalis", "Comfortstep"],
    "Books": ["Northwind Press", "Lantern Books", "Big Letter Press", "Acorn Press", "Harbor House",
              "Starling Books", "Bluebell Press", "Quill & Ink", "Paperkite"],
    "Outdoor": ["Northpeak", "Trailmark", "Summit Supply", "Campfire Co", "Ridgeback", "Puddlejump",
                "Wayfarer", "Stridewell"],
}
CATEGORIES = list(CATEGORY_BRANDS)
EXCLUSIVE_TAGS = [("paperback", "hardcover", "spiral-bound"), ("waterproof", "water-resistant")]
# Where in its type's price range a tier's prices fall (fractions of the log range).
TIER_RANGE = {"budget": (0.0, 0.45), "mid": (0.25, 0.75), "premium": (0.55, 1.0)}
TIER_QUALITY = {"budget": -0.35, "mid": 0.0, "premium": 0.4}

# ---------------------------------------------------------------------------- sizes

SIZE_SCHEMES = {
    "kids": ["2-3Y", "4-5Y", "6-7Y", "8-9Y", "10-12Y"],
    "baby": ["0-3M", "3-6M", "6-12M", "12-18M"],
    "adult": ["XS", "S", "M", "L", "XL", "XXL"],
    "shoe_kids": ["8C", "9C", "10C", "11C", "12C", "13C", "1Y", "2Y", "3Y"],  # child, youth
    "shoe_women": ["5", "6", "7", "8", "9", "10", "11"],
    "shoe_men": ["7", "8", "9", "10", "11", "12", "13"],
    "shoe_unisex": ["5", "6", "7", "8", "9", "10", "11", "12", "13"],
}
SIZE_MIN_RUN = {"kids": 3, "baby": 2, "adult": 4, "shoe_kids": 4, "shoe_women": 5,
                "shoe_men": 5, "shoe_unisex": 6}

# ---------------------------------------------------------------------------- product types


@dataclass(frozen=True)
class ProductType:
    """A kind of product ("Kids' Rain Jacket") and how its instances are drawn."""

    category: str          # "Kids > Outerwear"
    noun: str              # title noun, "Kids' Rain Jacket"
    audience: str
    low: float             # price range in dollars
    high: float
    count: int             # products of this type in the catalog
    sizes: str = ""        # key of SIZE_SCHEMES, "" when sizes do not apply
    tags: tuple[str, ...] = ()       # optional tags, 1-3 drawn
    must: tuple[str, ...] = ()       # tags every product of the type carries
    materials: tuple[str, ...] = ()  # one drawn, also kept as a tag
    brands: tuple[str, ...] = ()     # overrides the category's brands
    colored: bool = True

    @property
    def top(self) -> str:
        return self.category.split(" > ")[0]

    @property
    def phrase(self) -> str:
        """The noun as used inside a sentence: "kids' rain jacket", "pair of kids' rain boots"."""
        words = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in self.noun.split())
        if not self.noun.endswith("s"):
            return words
        return ("set of " if self.noun in SET_NOUNS else "pair of ") + words


def T(category: str, noun: str, audience: str, low: float, high: float, count: int,
      sizes: str = "", tags: str = "", must: str = "", materials: str = "", brands: str = "",
      colored: bool = True) -> ProductType:
    """Compact constructor: list arguments are comma-separated strings."""
    split = lambda text: tuple(s.strip() for s in text.split(",") if s.strip())  # noqa: E731
    return ProductType(category, noun, audience, low, high, count, sizes, split(tags), split(must),
                       split(materials), split(brands), colored)


SET_NOUNS = {"Adjustable Dumbbells", "Solar Garden Lights", "Storage Baskets", "Toy Storage Bins",
             "Large-Print Playing Cards"}
