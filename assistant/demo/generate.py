"""Generate the built-in demo store: products, customers and a year of shopping events.

    python -m assistant.demo.generate [--out DIR] [--seed N]

Everything is drawn from one `numpy.random.default_rng(seed)`, so a seed always gives
byte-identical files. The model is described in docs/demo-store.md: products carry a hidden
quality and popularity; customers carry hidden segment affinities, a personal category mix,
favourite brands and colours, and a price sensitivity; sessions of view -> click -> cart ->
purchase -> rating events are drawn from a softmax over each customer's utility.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from assistant.demo import CUSTOMERS_FILE, DATA_DIR, EVENTS_FILE, PRODUCTS_FILE

BASE_TIME = datetime(2025, 11, 1, tzinfo=timezone.utc)
WINDOW_SECONDS = 365 * 86_400
N_CUSTOMERS = 1_800
COUNT_SCALE = 1.09  # products per type = ProductType.count * COUNT_SCALE (about 2,400 in all)

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
# Where in its type's price range a tier's prices fall (fractions of the log range).
EXCLUSIVE_TAGS = [("paperback", "hardcover", "spiral-bound"), ("waterproof", "water-resistant")]
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
APPAREL_CARE = "machine-washable,durable,soft,stretch,breathable"
PRODUCT_TYPES: list[ProductType] = [
    # Kids
    T("Kids > Outerwear", "Kids' Rain Jacket", "kids", 15, 60, 34, "kids",
      "hooded,reflective,packable,machine-washable,durable,lightweight,fleece-lined",
      "waterproof", "recycled polyester,nylon,polyester"),
    T("Kids > Outerwear", "Kids' Raincoat", "kids", 15, 55, 22, "kids",
      "hooded,reflective,machine-washable,durable,fleece-lined", "waterproof",
      "polyester,rubber,recycled polyester"),
    T("Kids > Outerwear", "Kids' Puffer Jacket", "kids", 25, 90, 26, "kids",
      "hooded,water-resistant,lightweight,packable,machine-washable,durable", "insulated",
      "nylon,recycled polyester"),
    T("Kids > Outerwear", "Kids' Fleece Jacket", "kids", 15, 45, 14, "kids",
      "soft,machine-washable,lightweight,durable", "", "fleece,recycled polyester"),
    T("Kids > Outerwear", "Kids' Winter Parka", "kids", 40, 120, 14, "kids",
      "hooded,waterproof,reflective,durable,fleece-lined", "insulated", "nylon,polyester"),
    T("Kids > Outerwear", "Kids' Softshell Jacket", "kids", 20, 60, 12, "kids",
      "water-resistant,breathable,hooded,machine-washable,stretch", "", "polyester,nylon"),
    T("Kids > Outerwear", "Kids' Rain Suit", "kids", 20, 50, 10, "kids",
      "hooded,reflective,machine-washable,durable", "waterproof", "polyester,rubber"),
    T("Kids > Tops", "Kids' T-Shirt", "kids", 6, 22, 18, "kids", APPAREL_CARE, "",
      "cotton,organic cotton"),
    T("Kids > Tops", "Kids' Hoodie", "kids", 15, 40, 16, "kids", "hooded," + APPAREL_CARE, "",
      "cotton,fleece,organic cotton"),
    T("Kids > Tops", "Kids' Sweater", "kids", 15, 45, 12, "kids", "soft,machine-washable,durable",
      "", "cotton,wool blend"),
    T("Kids > Bottoms", "Kids' Jeans", "kids", 12, 40, 14, "kids",
      "stretch,durable,machine-washable,adjustable", "", "denim"),
    T("Kids > Bottoms", "Kids' Joggers", "kids", 10, 30, 14, "kids", APPAREL_CARE, "",
      "cotton,fleece"),
    T("Kids > Bottoms", "Kids' Leggings", "kids", 8, 22, 10, "kids",
      "stretch,soft,machine-washable", "", "cotton,organic cotton"),
    T("Kids > Shoes", "Kids' Rain Boots", "kids", 15, 45, 20, "shoe_kids",
      "non-slip,easy-on,reflective,fleece-lined,durable", "waterproof", "rubber,natural rubber"),
    T("Kids > Shoes", "Kids' Sneakers", "kids", 20, 70, 18, "shoe_kids",
      "easy-on,non-slip,breathable,lightweight,durable,cushioned", "", "canvas,faux leather"),
    T("Kids > Shoes", "Kids' Snow Boots", "kids", 30, 80, 12, "shoe_kids",
      "waterproof,non-slip,easy-on,fleece-lined", "insulated", "nylon,rubber"),
    T("Kids > Shoes", "Kids' Sandals", "kids", 12, 40, 10, "shoe_kids",
      "adjustable,quick-dry,non-slip,easy-on", "", "EVA foam,natural rubber"),
    T("Kids > Sleepwear", "Kids' Pajama Set", "kids", 12, 35, 16, "kids",
      "soft,machine-washable,breathable", "", "cotton,organic cotton,fleece"),
    T("Kids > Sleepwear", "Kids' Bathrobe", "kids", 18, 40, 8, "kids",
      "hooded,soft,machine-washable", "", "cotton,fleece"),
    T("Kids > Accessories", "Kids' Backpack", "kids", 15, 50, 14, "",
      "lightweight,water-resistant,reflective,padded,durable,machine-washable", "",
      "polyester,recycled polyester,canvas"),
    T("Kids > Accessories", "Kids' Umbrella", "kids", 8, 25, 10, "",
      "reflective,lightweight,compact,easy-grip", "waterproof", "nylon,polyester"),
    T("Kids > Accessories", "Kids' Winter Hat and Mittens Set", "kids", 10, 30, 10, "",
      "fleece-lined,soft,machine-washable", "warm", "wool blend,fleece"),
    # Toys
    T("Toys > Building", "Building Blocks Set", "kids", 15, 120, 22, "",
      "stackable,durable,bpa-free,educational", "", "ABS plastic,wood"),
    T("Toys > Building", "Magnetic Tiles Set", "kids", 25, 110, 14, "",
      "educational,durable,bpa-free,stackable", "", "ABS plastic"),
    T("Toys > Puzzles & Games", "Jigsaw Puzzle", "kids", 8, 30, 14, "",
      "educational,illustrated,eco-friendly", "", "recycled cardboard,wood"),
    T("Toys > Puzzles & Games", "Family Board Game", "unisex", 15, 50, 16, "",
      "educational,illustrated,portable", "", "recycled cardboard"),
    T("Toys > Puzzles & Games", "Large-Print Playing Cards", "seniors", 5, 15, 8, "",
      "durable,portable", "large-print", "recycled cardboard"),
    T("Toys > Plush", "Plush Teddy Bear", "kids", 10, 45, 14, "",
      "soft,machine-washable,hypoallergenic", "", "polyester,organic cotton"),
    T("Toys > Outdoor Play", "Balance Bike", "kids", 45, 150, 12, "",
      "lightweight,adjustable,durable", "", "aluminum,wood"),
    T("Toys > Outdoor Play", "Kids' Scooter", "kids", 30, 120, 14, "",
      "adjustable,foldable,lightweight,durable", "", "aluminum"),
    T("Toys > Outdoor Play", "Sand and Water Play Set", "kids", 10, 40, 10, "",
      "bpa-free,durable,stackable", "", "ABS plastic"),
    T("Toys > Arts & Crafts", "Art Supplies Kit", "kids", 12, 50, 12, "",
      "educational,portable,non-toxic", "", "wood"),
    T("Toys > Arts & Crafts", "Play Dough Set", "kids", 8, 25, 10, "",
      "non-toxic,educational", "", "natural flour dough"),
    T("Toys > Educational", "STEM Robot Kit", "kids", 35, 150, 12, "",
      "educational,rechargeable,wireless", "", "ABS plastic"),
    T("Toys > Educational", "Toddler Shape Sorter", "baby", 10, 35, 10, "",
      "educational,bpa-free,durable", "", "wood,ABS plastic"),
    # Baby
    T("Baby > Clothing", "Baby Bodysuit Set", "baby", 12, 35, 18, "baby",
      "soft,machine-washable,hypoallergenic,easy-on", "", "organic cotton,cotton"),
    T("Baby > Clothing", "Baby Footed Pajamas", "baby", 10, 30, 14, "baby",
      "soft,machine-washable,easy-on", "", "organic cotton,cotton,fleece"),
    T("Baby > Clothing", "Baby Snowsuit", "baby", 30, 90, 10, "baby",
      "hooded,water-resistant,machine-washable", "insulated", "polyester,fleece"),
    T("Baby > Clothing", "Baby Sleep Sack", "baby", 18, 45, 12, "baby",
      "soft,machine-washable,breathable", "", "organic cotton,bamboo"),
    T("Baby > Feeding", "Baby Bottle Set", "baby", 12, 40, 12, "",
      "dishwasher-safe,easy-grip", "bpa-free", "silicone,glass"),
    T("Baby > Feeding", "Silicone Bib Set", "baby", 8, 20, 10, "",
      "dishwasher-safe,easy-clean,adjustable", "bpa-free", "silicone"),
    T("Baby > Feeding", "Baby High Chair", "baby", 60, 250, 10, "",
      "adjustable,foldable,easy-clean", "", "wood,ABS plastic"),
    T("Baby > Gear", "Baby Stroller", "baby", 120, 600, 14, "",
      "foldable,lightweight,adjustable,compact", "", "aluminum"),
    T("Baby > Gear", "Baby Carrier", "baby", 35, 160, 10, "",
      "adjustable,breathable,padded,machine-washable", "ergonomic", "cotton,polyester"),
    T("Baby > Gear", "Convertible Car Seat", "baby", 120, 400, 10, "",
      "adjustable,padded,machine-washable", "", "polyester"),
    T("Baby > Gear", "Diaper Bag Backpack", "baby", 25, 120, 12, "",
      "water-resistant,padded,easy-clean,durable", "", "polyester,canvas"),
    T("Baby > Nursery", "Baby Monitor", "baby", 40, 250, 12, "",
      "wireless,rechargeable,night vision", "", "ABS plastic", "Safeguard,Brightline,Voltra,Nestling"),
    T("Baby > Nursery", "Swaddle Blanket Set", "baby", 15, 45, 10, "",
      "soft,breathable,machine-washable", "", "organic cotton,bamboo,muslin cotton"),
    T("Baby > Bath", "Baby Bath Tub", "baby", 15, 50, 8, "",
      "non-slip,foldable,easy-clean", "", "ABS plastic"),
    # Women's fashion
    T("Women's Fashion > Tops", "Women's T-Shirt", "women", 10, 45, 16, "adult", APPAREL_CARE, "",
      "cotton,organic cotton,linen"),
    T("Women's Fashion > Tops", "Women's Blouse", "women", 20, 90, 14, "adult",
      "breathable,machine-washable,soft", "", "linen,polyester,cotton"),
    T("Women's Fashion > Tops", "Women's Sweater", "women", 25, 140, 14, "adult",
      "soft,machine-washable,breathable", "", "merino wool,wool blend,cotton"),
    T("Women's Fashion > Dresses", "Women's Midi Dress", "women", 25, 160, 14, "adult",
      "breathable,machine-washable,trendy,stretch", "", "linen,cotton,polyester"),
    T("Women's Fashion > Dresses", "Women's Wrap Dress", "women", 30, 150, 10, "adult",
      "stretch,machine-washable,trendy", "", "polyester,cotton"),
    T("Women's Fashion > Outerwear", "Women's Rain Jacket", "women", 35, 180, 14, "adult",
      "hooded,packable,breathable,lightweight", "waterproof", "nylon,recycled polyester"),
    T("Women's Fashion > Outerwear", "Women's Puffer Jacket", "women", 50, 250, 12, "adult",
      "hooded,water-resistant,packable,lightweight", "insulated", "nylon,recycled polyester"),
    T("Women's Fashion > Outerwear", "Women's Trench Coat", "women", 60, 280, 8, "adult",
      "water-resistant,breathable", "", "cotton,polyester"),
    T("Women's Fashion > Bottoms", "Women's Jeans", "women", 25, 140, 14, "adult",
      "stretch,durable,machine-washable,trendy", "", "denim"),
    T("Women's Fashion > Bottoms", "Women's Leggings", "women", 12, 60, 12, "adult",
      "stretch,quick-dry,breathable,soft", "", "cotton,recycled polyester"),
    T("Women's Fashion > Shoes", "Women's Sneakers", "women", 35, 150, 14, "shoe_women",
      "cushioned,breathable,lightweight,trendy,non-slip", "", "canvas,leather,faux leather"),
    T("Women's Fashion > Shoes", "Women's Ankle Boots", "women", 50, 220, 12, "shoe_women",
      "water-resistant,cushioned,non-slip", "", "leather,faux leather"),
    T("Women's Fashion > Shoes", "Women's Ballet Flats", "women", 25, 120, 8, "shoe_women",
      "cushioned,lightweight,foldable", "", "leather,faux leather"),
    T("Women's Fashion > Accessories", "Women's Crossbody Bag", "women", 20, 200, 12, "",
      "adjustable,trendy,water-resistant,compact", "", "leather,faux leather,canvas"),
    T("Women's Fashion > Accessories", "Women's Knit Scarf", "women", 12, 70, 8, "",
      "soft,warm", "", "wool blend,merino wool,cotton"),
    T("Women's Fashion > Streetwear", "Women's Oversized Graphic Tee", "women", 15, 50, 10,
      "adult", "machine-washable,soft", "trendy", "cotton,organic cotton"),
    # Men's fashion
    T("Men's Fashion > Tops", "Men's T-Shirt", "men", 10, 45, 16, "adult", APPAREL_CARE, "",
      "cotton,organic cotton"),
    T("Men's Fashion > Tops", "Men's Oxford Shirt", "men", 25, 110, 14, "adult",
      "breathable,machine-washable,wrinkle-resistant", "", "cotton,linen"),
    T("Men's Fashion > Tops", "Men's Hoodie", "men", 25, 90, 12, "adult", "hooded," + APPAREL_CARE,
      "", "cotton,fleece"),
    T("Men's Fashion > Tops", "Men's Sweater", "men", 30, 150, 12, "adult",
      "soft,machine-washable,warm", "", "merino wool,wool blend,cotton"),
    T("Men's Fashion > Outerwear", "Men's Rain Jacket", "men", 40, 200, 14, "adult",
      "hooded,packable,breathable,lightweight", "waterproof", "nylon,recycled polyester"),
    T("Men's Fashion > Outerwear", "Men's Puffer Jacket", "men", 50, 260, 12, "adult",
      "hooded,water-resistant,packable,lightweight", "insulated", "nylon,recycled polyester"),
    T("Men's Fashion > Outerwear", "Men's Bomber Jacket", "men", 45, 200, 8, "adult",
      "water-resistant,trendy", "", "nylon,leather,faux leather"),
    T("Men's Fashion > Bottoms", "Men's Chinos", "men", 25, 100, 12, "adult",
      "stretch,machine-washable,wrinkle-resistant", "", "cotton"),
    T("Men's Fashion > Bottoms", "Men's Jeans", "men", 30, 150, 14, "adult",
      "stretch,durable,machine-washable", "", "denim"),
    T("Men's Fashion > Bottoms", "Men's Cargo Pants", "men", 25, 90, 8, "adult",
      "durable,trendy,stretch", "", "cotton,canvas"),
    T("Men's Fashion > Shoes", "Men's Sneakers", "men", 40, 160, 14, "shoe_men",
      "cushioned,breathable,lightweight,trendy", "", "canvas,leather,faux leather"),
    T("Men's Fashion > Shoes", "Men's Chelsea Boots", "men", 60, 240, 10, "shoe_men",
      "water-resistant,cushioned,non-slip", "", "leather,suede"),
    T("Men's Fashion > Accessories", "Men's Leather Belt", "men", 15, 80, 8, "",
      "adjustable,durable", "", "leather"),
    T("Men's Fashion > Accessories", "Baseball Cap", "unisex", 12, 40, 10, "",
      "adjustable,breathable,trendy", "", "cotton,recycled polyester"),
    T("Men's Fashion > Streetwear", "Men's Streetwear Hoodie", "men", 35, 120, 10, "adult",
      "oversized,hooded,soft", "trendy", "cotton,fleece"),
    # Electronics
    T("Electronics > Audio", "Wireless Headphones", "unisex", 30, 400, 20, "",
      "noise-cancelling,foldable,long battery life,trendy,rechargeable", "wireless",
      "aluminum,ABS plastic"),
    T("Electronics > Audio", "Wireless Earbuds", "unisex", 20, 280, 20, "",
      "noise-cancelling,water-resistant,compact,long battery life,trendy", "wireless",
      "ABS plastic"),
    T("Electronics > Audio", "Bluetooth Speaker", "unisex", 20, 250, 14, "",
      "waterproof,portable,long battery life,rechargeable", "wireless", "aluminum,ABS plastic"),
    T("Electronics > Computers", "Laptop", "adults", 400, 1500, 18, "",
      "lightweight,long battery life,compact", "", "aluminum,ABS plastic",
      "Nimbus Tech,Voltra,Arcbyte,Lumen Labs,Brightline"),
    T("Electronics > Computers", "Laptop Bag", "adults", 20, 120, 14, "",
      "padded,water-resistant,lightweight,durable", "", "nylon,leather,canvas"),
    T("Electronics > Computers", "Wireless Mouse", "unisex", 10, 80, 12, "",
      "ergonomic,rechargeable,compact", "wireless", "ABS plastic"),
    T("Electronics > Computers", "Mechanical Keyboard", "unisex", 40, 200, 10, "",
      "rgb lighting,wireless,durable", "", "aluminum,ABS plastic"),
    T("Electronics > Gaming", "Gaming Headset", "unisex", 30, 220, 14, "",
      "noise-cancelling,rgb lighting,wireless,trendy", "", "ABS plastic,aluminum",
      "Pixelforge,Sonique,Arcbyte,Zenko,Voltra"),
    T("Electronics > Gaming", "Game Controller", "unisex", 30, 150, 12, "",
      "wireless,rechargeable,ergonomic,trendy", "", "ABS plastic",
      "Pixelforge,Arcbyte,Zenko,Voltra"),
    T("Electronics > Gaming", "Gaming Chair", "adults", 120, 450, 8, "",
      "adjustable,ergonomic,padded", "", "faux leather,polyester", "Pixelforge,Arcbyte,Zenko"),
    T("Electronics > Phones", "Smartphone", "adults", 180, 1100, 14, "",
      "long battery life,waterproof,compact", "", "aluminum,glass",
      "Nimbus Tech,Voltra,Lumen Labs,Brightline,Zenko"),
    T("Electronics > Phones", "Big Button Mobile Phone", "seniors", 30, 120, 12, "",
      "easy-grip,long battery life,hearing-aid compatible,loud speaker", "large buttons",
      "ABS plastic", "Easyline,Brightline,Voltra,Silverline"),
    T("Electronics > Phones", "Phone Case", "unisex", 8, 45, 14, "",
      "slim,shock-absorbing,trendy", "", "silicone,TPE,leather"),
    T("Electronics > Phones", "Power Bank", "unisex", 15, 80, 10, "",
      "compact,portable,fast charging", "rechargeable", "aluminum,ABS plastic"),
    T("Electronics > Wearables", "Fitness Tracker", "unisex", 30, 200, 14, "",
      "waterproof,heart-rate monitor,long battery life,trendy", "wireless", "silicone,aluminum",
      "Pulse,Voltra,Nimbus Tech,Zenko,Stridewell"),
    T("Electronics > Wearables", "Smartwatch", "adults", 100, 450, 12, "",
      "waterproof,heart-rate monitor,trendy,long battery life", "wireless", "aluminum,silicone"),
    T("Electronics > Tablets", "Tablet", "unisex", 120, 800, 10, "",
      "lightweight,long battery life,large screen", "", "aluminum"),
    T("Electronics > Tablets", "E-Reader", "adults", 80, 250, 10, "",
      "lightweight,adjustable text size,long battery life,waterproof", "", "ABS plastic"),
    T("Electronics > Tablets", "Kids' Learning Tablet", "kids", 50, 160, 8, "",
      "durable,educational,parental controls,shock-absorbing", "", "ABS plastic,silicone",
      "Brightline,Zenko,Little Otter"),
    # Fitness
    T("Fitness > Yoga", "Yoga Mat", "unisex", 15, 120, 18, "",
      "non-slip,lightweight,eco-friendly,cushioned,trendy", "", "TPE,natural rubber,cork"),
    T("Fitness > Yoga", "Foam Roller", "unisex", 12, 60, 10, "", "lightweight,durable",
      "", "EVA foam"),
    T("Fitness > Strength", "Adjustable Dumbbells", "adults", 60, 400, 12, "",
      "adjustable,compact,durable", "", "cast iron,steel"),
    T("Fitness > Strength", "Resistance Bands Set", "unisex", 10, 45, 14, "",
      "portable,lightweight,durable", "", "natural rubber,TPE"),
    T("Fitness > Strength", "Kettlebell", "adults", 20, 120, 10, "", "durable,non-slip",
      "", "cast iron,vinyl"),
    T("Fitness > Strength", "Light Hand Weights Set", "seniors", 12, 45, 10, "",
      "easy-grip,non-slip,lightweight", "", "neoprene,vinyl"),
    T("Fitness > Cardio", "Jump Rope", "unisex", 8, 35, 8, "", "adjustable,lightweight",
      "", "PVC,steel"),
    T("Fitness > Cardio", "Walking Pad Treadmill", "adults", 250, 900, 8, "",
      "foldable,compact,quiet", "", "steel"),
    T("Fitness > Running", "Running Shoes", "unisex", 50, 200, 18, "shoe_unisex",
      "cushioned,breathable,lightweight,reflective", "", "mesh,recycled polyester"),
    T("Fitness > Apparel", "Women's Workout Leggings", "women", 20, 95, 14, "adult",
      "stretch,quick-dry,breathable,trendy", "", "recycled polyester,nylon"),
    T("Fitness > Apparel", "Men's Training Shorts", "men", 15, 60, 12, "adult",
      "quick-dry,breathable,lightweight", "", "recycled polyester,nylon"),
    T("Fitness > Accessories", "Sports Water Bottle", "unisex", 8, 45, 12, "",
      "leak-proof,dishwasher-safe,lightweight", "bpa-free", "stainless steel,Tritan plastic"),
    T("Fitness > Accessories", "Gym Duffel Bag", "unisex", 20, 120, 10, "",
      "water-resistant,durable,lightweight", "", "polyester,canvas"),
    T("Fitness > Balance", "Balance Cushion", "seniors", 15, 45, 8, "",
      "non-slip,lightweight,portable", "", "PVC"),
    # Home & Kitchen
    T("Home & Kitchen > Cookware", "Nonstick Frying Pan", "adults", 20, 150, 16, "",
      "dishwasher-safe,easy-clean,lightweight,oven-safe", "", "cast aluminum,stainless steel"),
    T("Home & Kitchen > Cookware", "Chef's Knife", "adults", 20, 200, 10, "",
      "ergonomic,durable", "", "stainless steel,carbon steel"),
    T("Home & Kitchen > Appliances", "Coffee Maker", "adults", 30, 300, 14, "",
      "programmable,compact,easy-clean", "", "stainless steel,ABS plastic"),
    T("Home & Kitchen > Appliances", "Blender", "adults", 30, 250, 12, "",
      "dishwasher-safe,compact,powerful motor", "", "stainless steel,Tritan plastic"),
    T("Home & Kitchen > Appliances", "Air Fryer", "adults", 50, 220, 14, "",
      "easy-clean,dishwasher-safe,compact,timer", "", "stainless steel,ABS plastic"),
    T("Home & Kitchen > Appliances", "Electric Kettle", "adults", 20, 120, 12, "",
      "auto shut-off,easy-grip,lightweight", "", "stainless steel,glass"),
    T("Home & Kitchen > Kitchen Aids", "Easy-Grip Jar Opener", "seniors", 8, 30, 10, "",
      "non-slip,lightweight", "easy-grip", "silicone,stainless steel", "EasyReach,Simply Home,Hearthside"),
    T("Home & Kitchen > Kitchen Aids", "Kitchen Utensil Set with Easy-Grip Handles", "seniors",
      15, 50, 8, "", "dishwasher-safe,non-slip", "easy-grip", "silicone,stainless steel"),
    T("Home & Kitchen > Kids' Dining", "Kids' Lunch Box", "kids", 10, 35, 12, "",
      "leak-proof,dishwasher-safe,easy-clean", "bpa-free", "stainless steel,Tritan plastic"),
    T("Home & Kitchen > Kids' Dining", "Toddler Plate and Cup Set", "kids", 10, 30, 10, "",
      "dishwasher-safe,unbreakable,easy-clean", "bpa-free", "silicone,bamboo"),
    T("Home & Kitchen > Bedding", "Duvet Cover Set", "adults", 35, 200, 14, "",
      "soft,machine-washable,breathable", "", "cotton,linen,bamboo"),
    T("Home & Kitchen > Bedding", "Memory Foam Pillow", "adults", 20, 90, 12, "",
      "hypoallergenic,machine-washable,ergonomic", "", "memory foam"),
    T("Home & Kitchen > Bedding", "Kids' Bedding Set", "kids", 25, 90, 10, "",
      "soft,machine-washable,durable", "", "cotton,organic cotton"),
    T("Home & Kitchen > Storage", "Toy Storage Bins", "kids", 15, 60, 10, "",
      "foldable,stackable,durable", "", "canvas,felt"),
    T("Home & Kitchen > Storage", "Storage Baskets", "adults", 15, 70, 8, "",
      "foldable,stackable", "", "seagrass,cotton rope"),
    T("Home & Kitchen > Safety", "Baby Safety Gate", "baby", 30, 120, 10, "",
      "adjustable,easy-open,durable", "", "steel,wood", "Safeguard,Little Otter,Simply Home"),
    T("Home & Kitchen > Lighting", "Motion Sensor Night Light", "seniors", 10, 40, 10, "",
      "rechargeable,easy-install,wireless", "", "ABS plastic"),
    T("Home & Kitchen > Lighting", "Kids' Night Light", "kids", 10, 40, 10, "",
      "rechargeable,timer,soft glow", "", "silicone,ABS plastic"),
    # Garden
    T("Garden > Watering", "Expandable Garden Hose", "adults", 20, 90, 12, "",
      "lightweight,kink-free,durable", "", "latex,polyester"),
    T("Garden > Watering", "Watering Can", "adults", 10, 50, 10, "", "lightweight,easy-grip",
      "", "galvanized steel,recycled plastic"),
    T("Garden > Tools", "Pruning Shears", "adults", 12, 70, 12, "",
      "ergonomic,non-slip,durable", "easy-grip", "stainless steel,carbon steel"),
    T("Garden > Tools", "Garden Kneeler and Seat", "seniors", 30, 90, 10, "",
      "foldable,lightweight,padded", "", "steel,EVA foam"),
    T("Garden > Tools", "Long-Handled Weeder", "seniors", 15, 50, 8, "",
      "easy-grip,lightweight", "", "stainless steel,aluminum"),
    T("Garden > Tools", "Garden Gloves", "unisex", 8, 30, 10, "adult",
      "durable,breathable,machine-washable", "", "leather,nitrile-coated cotton"),
    T("Garden > Planters", "Raised Garden Bed", "adults", 50, 250, 10, "",
      "durable,easy-assembly", "", "cedar wood,galvanized steel"),
    T("Garden > Planters", "Ceramic Planter Set", "adults", 20, 90, 10, "", "drainage hole",
      "", "ceramic,terracotta"),
    T("Garden > Planting", "Seed Starter Kit", "adults", 12, 45, 8, "", "eco-friendly,compact",
      "", "recycled plastic,coconut coir"),
    T("Garden > Wildlife", "Bird Feeder", "adults", 15, 70, 12, "",
      "weatherproof,easy-clean,squirrel-resistant", "", "metal,cedar wood"),
    T("Garden > Outdoor Living", "Patio Chair", "adults", 50, 300, 10, "",
      "weatherproof,stackable,foldable", "", "acacia wood,aluminum,resin wicker"),
    T("Garden > Outdoor Living", "Solar Garden Lights", "adults", 15, 80, 10, "",
      "weatherproof,auto on-off,easy-install", "", "stainless steel,ABS plastic"),
    T("Garden > Kids' Gardening", "Kids' Gardening Set", "kids", 12, 40, 8, "",
      "lightweight,durable,educational", "", "steel,wood", "Little Otter,Greenthumb,Fernway"),
    # Health & Mobility
    T("Health & Mobility > Mobility Aids", "Walking Cane", "seniors", 15, 60, 16, "",
      "adjustable,foldable,lightweight,non-slip", "easy-grip", "aluminum,wood,carbon fiber"),
    T("Health & Mobility > Mobility Aids", "Rollator Walker", "seniors", 70, 280, 12, "",
      "foldable,lightweight,padded seat,adjustable", "", "aluminum,steel"),
    T("Health & Mobility > Mobility Aids", "Reacher Grabber Tool", "seniors", 10, 35, 10, "",
      "lightweight,foldable,non-slip", "easy-grip", "aluminum"),
    T("Health & Mobility > Vision", "Reading Glasses", "seniors", 10, 60, 18, "",
      "lightweight,blue-light filtering,spring hinges", "", "acetate,metal", ""),
    T("Health & Mobility > Vision", "Magnifying Glass with Light", "seniors", 12, 45, 10, "",
      "rechargeable,lightweight,easy-grip", "", "glass,ABS plastic"),
    T("Health & Mobility > Monitoring", "Blood Pressure Monitor", "seniors", 25, 110, 12, "",
      "large display,easy-to-use,memory function", "", "ABS plastic",
      "Carewell,Silverline,Easyline,Vitalis"),
    T("Health & Mobility > Monitoring", "Digital Thermometer", "unisex", 10, 50, 8, "",
      "fast reading,easy-to-use", "", "ABS plastic"),
    T("Health & Mobility > Daily Living", "Pill Organizer", "seniors", 6, 30, 10, "",
      "large-print,easy-open,compact", "", "BPA-free plastic"),
    T("Health & Mobility > Bathroom Safety", "Shower Chair", "seniors", 30, 120, 10, "",
      "non-slip,adjustable,lightweight", "", "aluminum,ABS plastic"),
    T("Health & Mobility > Bathroom Safety", "Grab Bar", "seniors", 15, 60, 10, "",
      "non-slip,easy-install", "easy-grip", "stainless steel"),
    T("Health & Mobility > Footwear", "Orthopedic Walking Shoes", "seniors", 50, 160, 14,
      "shoe_unisex", "non-slip,easy-on,lightweight,extra-wide", "arch support",
      "leather,mesh", "Comfortstep,Steadfast,Silverline,Stridewell"),
    T("Health & Mobility > Comfort", "Compression Socks", "unisex", 10, 35, 10, "adult",
      "breathable,machine-washable", "graduated compression", "nylon,cotton"),
    T("Health & Mobility > Comfort", "Electric Heating Pad", "adults", 20, 70, 8, "",
      "auto shut-off,machine-washable,soft", "", "microplush"),
    T("Health & Mobility > Hearing", "Personal Sound Amplifier", "seniors", 40, 250, 8, "",
      "rechargeable,compact,easy-to-use", "", "ABS plastic"),
    # Books
    T("Books > Large Print", "Large Print Mystery Novel", "seniors", 10, 28, 16, "", "paperback,hardcover",
      "large-print", "", "Big Letter Press,Harbor House,Northwind Press", colored=False),
    T("Books > Large Print", "Large Print Crossword Book", "seniors", 7, 16, 12, "",
      "spiral-bound,paperback", "large-print", "", "Big Letter Press,Lantern Books,Paperkite",
      colored=False),
    T("Books > Children's", "Picture Book", "kids", 7, 22, 18, "", "hardcover,paperback",
      "illustrated", "", "", colored=False),
    T("Books > Children's", "Bedtime Story Collection", "kids", 10, 30, 12, "",
      "hardcover", "illustrated", "", "", colored=False),
    T("Books > Baby", "Baby Board Book", "baby", 5, 14, 12, "", "durable,lift-the-flap",
      "illustrated", "", "Acorn Press,Starling Books,Bluebell Press,Paperkite", colored=False),
    T("Books > Cooking", "Cookbook", "adults", 15, 45, 12, "", "hardcover,paperback",
      "illustrated", "", "", colored=False),
    T("Books > Fiction", "Graphic Novel", "adults", 12, 35, 12, "", "paperback,hardcover",
      "illustrated", "", "", colored=False),
    T("Books > Fiction", "Science Fiction Novel", "adults", 9, 30, 12, "", "paperback,hardcover",
      "", "", "", colored=False),
    T("Books > Nonfiction", "Self-Help Book", "adults", 10, 30, 10, "", "paperback,hardcover",
      "", "", "", colored=False),
    T("Books > Nonfiction", "Gardening Handbook", "adults", 12, 35, 8, "", "paperback,hardcover",
      "illustrated", "", "", colored=False),
    T("Books > Travel", "Travel Guide", "adults", 12, 30, 8, "", "paperback", "illustrated", "",
      "", colored=False),
    # Outdoor
    T("Outdoor > Camping", "Camping Tent", "unisex", 60, 450, 14, "",
      "waterproof,lightweight,easy setup,packable", "", "nylon,polyester"),
    T("Outdoor > Camping", "Sleeping Bag", "unisex", 30, 220, 12, "",
      "insulated,packable,lightweight,water-resistant", "", "nylon,recycled polyester"),
    T("Outdoor > Camping", "Camping Chair", "unisex", 20, 120, 10, "",
      "foldable,lightweight,portable", "", "aluminum,polyester"),
    T("Outdoor > Camping", "LED Headlamp", "unisex", 10, 60, 10, "",
      "rechargeable,waterproof,lightweight", "", "ABS plastic,aluminum"),
    T("Outdoor > Hiking", "Hiking Backpack", "unisex", 40, 220, 14, "",
      "water-resistant,padded,lightweight,adjustable", "", "nylon,recycled polyester"),
    T("Outdoor > Hiking", "Hiking Boots", "unisex", 60, 230, 14, "shoe_unisex",
      "waterproof,non-slip,breathable,cushioned", "", "leather,nylon"),
    T("Outdoor > Hiking", "Kids' Hiking Boots", "kids", 30, 80, 10, "shoe_kids",
      "waterproof,non-slip,easy-on,durable", "", "nylon,suede"),
    T("Outdoor > Hiking", "Trekking Poles", "unisex", 20, 130, 10, "",
      "adjustable,foldable,lightweight", "easy-grip", "aluminum,carbon fiber"),
    T("Outdoor > Hiking", "Insulated Water Bottle", "unisex", 15, 50, 12, "",
      "leak-proof,dishwasher-safe,lightweight", "insulated", "stainless steel"),
    T("Outdoor > Rain Gear", "Rain Poncho", "unisex", 8, 40, 10, "adult",
      "hooded,packable,lightweight,reflective", "waterproof", "nylon,PVC"),
    T("Outdoor > Rain Gear", "Kids' Rain Poncho", "kids", 8, 30, 8, "kids",
      "hooded,packable,reflective", "waterproof", "nylon,PVC"),
    T("Outdoor > Picnic", "Picnic Blanket", "unisex", 15, 70, 8, "",
      "waterproof,foldable,machine-washable", "", "polyester,fleece"),
    T("Outdoor > Cycling", "Bike Helmet", "adults", 30, 150, 10, "adult",
      "adjustable,lightweight,reflective,breathable", "", "EPS foam,polycarbonate"),
    T("Outdoor > Cycling", "Kids' Bike Helmet", "kids", 20, 60, 10, "kids",
      "adjustable,lightweight,reflective", "", "EPS foam,polycarbonate"),
]

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

# ---------------------------------------------------------------------------- words

TITLE_ADJECTIVES = {
    "waterproof": "Waterproof", "water-resistant": "Water-Resistant", "hooded": "Hooded",
    "insulated": "Insulated", "lightweight": "Lightweight", "packable": "Packable",
    "reflective": "Reflective", "noise-cancelling": "Noise-Cancelling", "foldable": "Foldable",
    "adjustable": "Adjustable", "ergonomic": "Ergonomic", "non-slip": "Non-Slip",
    "quick-dry": "Quick-Dry", "breathable": "Breathable", "stretch": "Stretch",
    "oversized": "Oversized", "fleece-lined": "Fleece-Lined", "rechargeable": "Rechargeable",
    "organic cotton": "Organic Cotton", "merino wool": "Merino", "compact": "Compact",
    "cushioned": "Cushioned", "portable": "Portable", "padded": "Padded", "durable": "Durable",
    "eco-friendly": "Eco-Friendly", "stackable": "Stackable", "linen": "Linen", "leather": "Leather",
    "denim": "Denim", "fleece": "Fleece", "wool blend": "Wool-Blend", "stainless steel": "Stainless Steel",
    "bamboo": "Bamboo", "wood": "Wooden", "weatherproof": "Weatherproof", "leak-proof": "Leak-Proof",
}
STYLE_WORDS = ["Classic", "Everyday", "Essential", "Signature", "Original", "Modern", "Core",
               "Studio", "Heritage", "Urban", "Explorer", "Daily", "Select"]
BOOK_ADJECTIVES = ["Quiet", "Hidden", "Last", "Silver", "Midnight", "Forgotten", "Winter", "Golden",
                   "Lost", "Little", "Brave", "Secret", "Wandering", "Crooked", "Bright", "Distant"]
BOOK_NOUNS = ["Harbor", "Garden", "Lighthouse", "Orchard", "Key", "Letter", "River", "Fox", "Moon",
              "Bridge", "Cottage", "Meadow", "Island", "Lantern", "Station", "Owl", "Comet", "Forest"]
KID_NAMES = ["Milo", "Pip", "Luna", "Otto", "Rosie", "Bea", "Finn", "Ziggy", "Mabel", "Teddy"]
NONFICTION_TITLES = {
    "Cookbook": (["Weeknight", "Family", "Plant-Based", "One-Pot", "Slow Cooker", "Mediterranean",
                  "Simple Baking", "Thirty-Minute", "Sunday Roast", "Budget"],
                 ["Kitchen", "Recipes", "Suppers", "Table", "Classics"]),
    "Self-Help Book": (["The Calm", "The Small Steps", "The Focused", "The Gentle", "The Morning",
                        "The Resilient", "The Kind", "The Steady"],
                       ["Mind", "Habit", "Year", "Life", "Path", "Reset"]),
    "Gardening Handbook": (["The Small", "The Balcony", "The Vegetable", "The Wildlife",
                            "The Low-Effort", "The Four-Season", "The Cottage"],
                           ["Garden", "Plot", "Grower", "Gardener"]),
    "Large Print Crossword Book": (["Big Easy", "Daily", "Relaxing", "Classic", "Sunday",
                                    "Gentle", "Everyday", "Weekend"],
                                   ["Crosswords", "Crossword Collection", "Crossword Puzzles"]),
    "Travel Guide": (["Coastal", "Mountain", "City", "Island", "Lakeside", "Northern", "Southern",
                      "Rail"],
                     ["Journeys", "Escapes", "Weekends", "Walks", "Road Trips"]),
}

OPENERS_PLAIN = [  # openers that leave the colour to a later sentence
    "Introducing the {brand} {noun}.",
    "Meet the {noun} from {brand}.",
    "{brand} makes this {noun}.",
    "Here is the {brand} {noun}.",
]
OPENERS_GENERIC = [
    "Meet the {brand} {noun} in {color}.",
    "This {color} {noun} comes from {brand}.",
    "The {brand} {noun} arrives in {color}.",
    "Looking for a new {noun}? This {color} one from {brand} is worth a look.",
    "{brand} presents {a_color} {noun}.",
    "Say hello to {brand}'s {noun}, here in {color}.",
]
OPENERS_BY_TOP = {
    "Kids": ["Here is {a_color} {noun} from {brand}, made for busy kids.",
             "{brand} designed this {color} {noun} with young explorers in mind."],
    "Toys": ["Playtime gets better with this {color} {noun} from {brand}.",
             "{brand}'s {noun} in {color} is made for curious little hands."],
    "Baby": ["A {color} {noun} from {brand} for the littlest ones.",
             "{brand} brings you this {color} {noun} for babies and their parents."],
    "Women's Fashion": ["{brand}'s {noun} in {color} is an easy wardrobe staple.",
                        "Add this {color} {noun} from {brand} to your rotation."],
    "Men's Fashion": ["{brand}'s {noun} in {color} is an easy wardrobe staple.",
                      "A {color} {noun} from {brand} that goes with almost anything."],
    "Electronics": ["The {brand} {noun} comes in a {color} finish.",
                    "{brand} packs a lot into this {color} {noun}."],
    "Fitness": ["Train with the {brand} {noun} in {color}.",
                "Build your routine around this {color} {noun} from {brand}."],
    "Home & Kitchen": ["Bring home the {brand} {noun}, finished in {color}.",
                       "This {color} {noun} from {brand} fits right into a busy home."],
    "Garden": ["Get your garden ready with this {color} {noun} from {brand}.",
               "{brand} makes this {color} {noun} for keen gardeners."],
    "Health & Mobility": ["The {brand} {noun} in {color} is made to make daily living easier.",
                          "{brand} designed this {color} {noun} for comfort and independence."],
    "Outdoor": ["Head outside with this {color} {noun} from {brand}.",
                "{brand}'s {color} {noun} is ready for your next trip outdoors."],
}
OPENERS_BOOKS = [
    "{title} is a {noun} published by {brand}.",
    "Published by {brand}, {title} is a {noun}.",
    "From {brand} comes {title}, a {noun}.",
    "{title} ({brand}) is a {noun}.",
]
BOOK_SENTENCES = {
    "Large Print Mystery Novel": ["A quiet village hides a puzzling crime in this gently paced mystery.",
                                  "Follow an unlikely detective through a twisting whodunit."],
    "Large Print Crossword Book": ["Packed with crosswords for daily puzzle time.",
                                   "Puzzles range from easy warm-ups to trickier grids."],
    "Picture Book": ["A warm story about friendship, told in simple words.",
                     "Short sentences make it a good read-aloud."],
    "Bedtime Story Collection": ["A collection of short stories for winding down at bedtime.",
                                 "Each story is short enough for a single bedtime."],
    "Baby Board Book": ["Sturdy pages are made for tiny hands.",
                        "Simple words and bold pictures introduce first concepts."],
    "Cookbook": ["The recipes focus on everyday cooking at home.",
                 "Step-by-step recipes cover breakfasts, mains and desserts."],
    "Graphic Novel": ["A fast-moving story told in comic panels.",
                      "An adventure told through bold artwork."],
    "Science Fiction Novel": ["A story of distant worlds and the people who travel to them.",
                              "A crew far from home faces a choice that changes everything."],
    "Self-Help Book": ["Practical chapters offer small changes for everyday life.",
                       "Short exercises close each chapter."],
    "Gardening Handbook": ["It walks through planning, planting and caring for a garden.",
                           "Seasonal advice covers what to sow and when."],
    "Travel Guide": ["It covers routes, places to stay and local sights.",
                     "Maps and itineraries help plan each trip."],
}

TAG_SENTENCES: dict[str, list[str]] = {
    "waterproof": ["It is fully waterproof, so rain stays outside.",
                   "A waterproof build keeps the wet out.",
                   "Waterproof from top to bottom for rainy days."],
    "water-resistant": ["It is water-resistant and shrugs off light showers.",
                        "A water-resistant finish handles drizzle and splashes."],
    "hooded": ["An attached hood adds extra cover.", "It comes with a hood for extra protection."],
    "insulated": ["Insulation keeps the warmth in on cold days.",
                  "It is insulated to hold in warmth."],
    "lightweight": ["It is lightweight and easy to carry.", "At a light weight, it never feels bulky.",
                    "Lightweight enough to use all day."],
    "packable": ["It packs down small for bags and backpacks.",
                 "Packable, so it folds away when the weather turns."],
    "reflective": ["Reflective details help with visibility in low light.",
                   "Reflective accents make it easier to spot at dusk."],
    "machine-washable": ["It is machine-washable, which makes cleanup easy.",
                         "Just toss it in the washing machine when it gets dirty.",
                         "Machine-washable for busy households."],
    "durable": ["It is built to be durable and stand up to daily wear.",
                "A durable construction handles rough and tumble use.",
                "Made to be durable, so it lasts."],
    "soft": ["It feels soft against the skin.", "A soft feel makes it comfortable to wear."],
    "stretch": ["A little stretch lets it move with you.", "Stretch fabric allows easy movement."],
    "breathable": ["It is breathable, so it stays comfortable.",
                   "Breathable materials help keep things cool."],
    "fleece-lined": ["A fleece lining adds cosy warmth.", "It is fleece-lined for extra warmth."],
    "non-slip": ["A non-slip surface adds grip and stability.",
                 "It is non-slip, which helps prevent slips."],
    "easy-grip": ["An easy-grip design makes it simple to hold.",
                  "The easy-grip handle is comfortable for tired or stiff hands."],
    "easy-on": ["It is easy to put on without help.", "Easy-on fastenings save time in the morning."],
    "quick-dry": ["It is quick-dry, so it is ready again in no time.",
                  "Quick-dry fabric dries fast after a wash or a workout."],
    "adjustable": ["It is adjustable for a better fit.",
                   "Adjustable parts let you get the fit just right."],
    "foldable": ["It folds flat for storage.", "A foldable design saves space when not in use."],
    "compact": ["It is compact and easy to store.", "Its compact size fits small spaces."],
    "portable": ["It is portable, so you can take it anywhere.",
                 "Portable and easy to bring along."],
    "padded": ["Padding adds comfort and protection.", "It is padded where it counts."],
    "cushioned": ["Cushioning adds comfort with every step.",
                  "A cushioned feel keeps it comfortable for hours."],
    "ergonomic": ["An ergonomic shape reduces strain.",
                  "The ergonomic design is comfortable to use for longer."],
    "wireless": ["It is wireless, so there are no cables to untangle.",
                 "A wireless connection keeps things tidy."],
    "rechargeable": ["It is rechargeable, so there are no batteries to replace.",
                     "A rechargeable battery keeps it going."],
    "noise-cancelling": ["Noise-cancelling helps shut out the world around you.",
                         "Active noise-cancelling quiets busy commutes."],
    "trendy": ["A trendy look that fits right in with current styles.",
               "Its trendy style is popular with a younger crowd."],
    "oversized": ["An oversized cut gives a relaxed look."],
    "large-print": ["Large-print text is easy on the eyes.",
                    "The large-print type makes reading comfortable without strain."],
    "bpa-free": ["It is BPA-free.", "Made without BPA."],
    "dishwasher-safe": ["It is dishwasher-safe for easy cleaning.",
                        "Pop it in the dishwasher when you are done."],
    "easy-clean": ["It wipes clean easily.", "Easy to clean after every use."],
    "hypoallergenic": ["It is hypoallergenic and gentle on sensitive skin."],
    "educational": ["It is educational and encourages learning through play.",
                    "Learning and fun go together with this educational design."],
    "stackable": ["Pieces are stackable for easy storage.", "It is stackable to save space."],
    "eco-friendly": ["It is made with eco-friendly materials."],
    "illustrated": ["It is richly illustrated throughout.", "Illustrations appear on every spread."],
    "warm": ["It keeps warmth in on chilly days."],
    "long battery life": ["Long battery life keeps it running through the day.",
                          "The long battery life means fewer trips to the charger."],
    "leak-proof": ["A leak-proof lid keeps bags dry."],
    "weatherproof": ["It is weatherproof and can stay outdoors."],
    "large buttons": ["Large buttons make every press easy to see and feel."],
    "arch support": ["Built-in arch support helps with comfort on longer walks."],
    "non-toxic": ["Everything in it is non-toxic."],
    "easy-to-use": ["It is easy to use straight out of the box."],
    "auto shut-off": ["An auto shut-off adds peace of mind."],
    "paperback": ["This edition is a paperback."],
    "hardcover": ["This edition is a hardcover."],
    "spiral-bound": ["It is spiral-bound, so it lies flat."],
    "adjustable text size": ["Text size is adjustable for comfortable reading."],
    "auto on-off": ["It switches on and off automatically."],
    "blue-light filtering": ["Blue-light filtering lenses help during screen time."],
    "drainage hole": ["A drainage hole keeps roots from sitting in water."],
    "easy setup": ["Easy setup gets it ready in minutes."],
    "easy-assembly": ["Easy assembly means no special tools."],
    "easy-install": ["It is easy to install."],
    "easy-open": ["An easy-open design needs little strength."],
    "extra-wide": ["An extra-wide fit gives toes more room."],
    "fast charging": ["Fast charging tops it up quickly."],
    "fast reading": ["It gives a fast reading."],
    "graduated compression": ["Graduated compression supports circulation."],
    "hearing-aid compatible": ["It is hearing-aid compatible."],
    "heart-rate monitor": ["A heart-rate monitor tracks every workout."],
    "kink-free": ["A kink-free design keeps water flowing."],
    "large display": ["A large display makes readings easy to see."],
    "large screen": ["A large screen makes reading and watching comfortable."],
    "lift-the-flap": ["Lift-the-flap pages add a surprise on every spread."],
    "loud speaker": ["A loud speaker makes calls easy to hear."],
    "memory function": ["A memory function keeps earlier readings."],
    "night vision": ["Night vision lets you check in after dark."],
    "oven-safe": ["It is oven-safe as well as stovetop-ready."],
    "padded seat": ["A padded seat offers a place to rest."],
    "parental controls": ["Parental controls let grown-ups manage screen time."],
    "powerful motor": ["A powerful motor handles ice and frozen fruit."],
    "programmable": ["It is programmable, so it can be set in advance."],
    "quiet": ["It runs quietly."],
    "rgb lighting": ["RGB lighting adds a splash of colour to any setup."],
    "shock-absorbing": ["A shock-absorbing build protects against drops."],
    "slim": ["A slim profile adds almost no bulk."],
    "soft glow": ["A soft glow makes bedtime less scary."],
    "spring hinges": ["Spring hinges give a comfortable fit."],
    "squirrel-resistant": ["A squirrel-resistant design keeps the seed for the birds."],
    "timer": ["A built-in timer takes the guesswork out."],
    "unbreakable": ["It is unbreakable, so drops are no drama."],
    "wrinkle-resistant": ["Wrinkle-resistant fabric looks neat with little ironing."],
}

MATERIAL_SENTENCES = ["Made from {material}.", "Its main material is {material}.",
                      "Crafted from {material}.", "The {noun} is made of {material}."]
AUDIENCE_SENTENCES = {
    "kids": ["Made with kids in mind.", "A practical pick for children.",
             "Designed for children and the grown-ups who shop for them."],
    "baby": ["Designed for babies and the parents who care for them.",
             "A gentle choice for the littlest members of the family.", "Made with babies in mind."],
    "women": ["Designed for women.", "Styled for women and easy to wear from morning to evening.",
              "A versatile piece for a woman's everyday wardrobe."],
    "men": ["Designed for men.", "A dependable addition to a man's everyday wardrobe.",
            "Styled for men who like things simple."],
    "seniors": ["Designed with older adults in mind, it keeps everyday tasks simple.",
                "A thoughtful choice for seniors who value comfort and ease of use.",
                "Made for seniors who want to stay independent."],
    "unisex": ["A unisex design that suits anyone.", "It works for men and women alike.",
               "Suitable for the whole household."],
    "adults": ["Made for adults.", "A solid choice for grown-ups.", "Designed for adult use."],
}
SIZE_SENTENCES = ["Available in {label}sizes {sizes}.",
                  "Offered in {n} {label}sizes from {first} to {last}.",
                  "{Sizes} run from {first} to {last}."]
TIER_SENTENCES = {
    "budget": ["A good-value pick from {brand}.", "An affordable option from {brand}."],
    "mid": ["A dependable mid-range option from {brand}."],
    "premium": ["A premium option from {brand}.", "{brand}'s premium line shows in the details."],
}
COLOR_SENTENCES = ["The {color} colour is easy to match.", "Shown here in {color}.",
                   "It comes in {color}."]

# ---------------------------------------------------------------------------- customers

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
HOUR_WEIGHTS = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4, 4,
                         5, 4, 4, 4, 4, 5, 6, 7, 8, 7, 5, 2], dtype=float)


# ============================================================================ products


@dataclass
class Catalog:
    """Generated products plus the hidden per-product arrays the event model uses."""

    rows: list[dict] = field(default_factory=list)
    type_index: list[int] = field(default_factory=list)
    tier: list[str] = field(default_factory=list)
    quality: np.ndarray = field(default_factory=lambda: np.zeros(0))
    log_popularity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rel_log_price: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _pick(rng: np.random.Generator, items: list | tuple):
    return items[int(rng.integers(len(items)))]


def _draw_sizes(rng: np.random.Generator, scheme: str) -> str:
    if not scheme:
        return ""
    sizes = SIZE_SCHEMES[scheme]
    run = int(rng.integers(SIZE_MIN_RUN[scheme], len(sizes) + 1))
    start = int(rng.integers(0, len(sizes) - run + 1))
    return "|".join(sizes[start:start + run])


def _draw_price(rng: np.random.Generator, ptype: ProductType, tier: str) -> float:
    lo, hi = TIER_RANGE[tier]
    position = lo + (hi - lo) * rng.random()
    raw = ptype.low * (ptype.high / ptype.low) ** position
    if raw < 20:
        price = round(raw * 2) / 2 - 0.01
    elif raw < 200:
        price = round(raw) - 0.01
    else:
        price = round(raw / 10) * 10 - 0.01
    return round(max(price, 0.99), 2)


def _draw_tags(rng: np.random.Generator, ptype: ProductType, material: str) -> list[str]:
    tags = list(ptype.must)
    if ptype.tags:
        count = min(len(ptype.tags), int(rng.integers(1, 4)))
        chosen = sorted(rng.choice(len(ptype.tags), size=count, replace=False).tolist())
        tags += [ptype.tags[i] for i in chosen if ptype.tags[i] not in tags]
    for group in EXCLUSIVE_TAGS:
        present = [t for t in tags if t in group]
        tags = [t for t in tags if t not in present[1:]]
    if material and material not in tags:
        tags.append(material)
    return tags


def _title(rng: np.random.Generator, ptype: ProductType, brand: str, tags: list[str],
           color: str) -> str:
    if ptype.top == "Books":
        return _book_title(rng, ptype)
    noun_words = ptype.noun.lower()
    adjectives = [TITLE_ADJECTIVES[t] for t in tags
                  if t in TITLE_ADJECTIVES and TITLE_ADJECTIVES[t].lower() not in noun_words]
    words = []
    roll = rng.random()
    if adjectives and roll < 0.65:
        if rng.random() < 0.3:
            words.append(_pick(rng, STYLE_WORDS))
        words.append(_pick(rng, adjectives))
    else:
        words.append(_pick(rng, STYLE_WORDS))
    title = f"{brand} {' '.join(words)} {ptype.noun}"
    if color and ptype.sizes and rng.random() < 0.6:
        title += f" - {color.title()}"
    return title


def _book_title(rng: np.random.Generator, ptype: ProductType) -> str:
    if ptype.noun in NONFICTION_TITLES:
        firsts, seconds = NONFICTION_TITLES[ptype.noun]
        name = f"{_pick(rng, firsts)} {_pick(rng, seconds)}"
        return f"{name} (Large Print)" if "Large Print" in ptype.noun else name
    if ptype.audience in ("kids", "baby"):
        name = f"{_pick(rng, KID_NAMES)} and the {_pick(rng, BOOK_ADJECTIVES)} {_pick(rng, BOOK_NOUNS)}"
    else:
        name = f"The {_pick(rng, BOOK_ADJECTIVES)} {_pick(rng, BOOK_NOUNS)}"
    return f"{name} (Large Print)" if "Large Print" in ptype.noun else name


def _description(rng: np.random.Generator, ptype: ProductType, row: dict, tier: str,
                 material: str) -> str:
    """3-5 sentences from several pools, each consistent with the product's own fields."""
    noun = ptype.phrase
    fill = {"brand": row["brand"], "noun": noun, "color": row["color"],
            "a_color": _a(row["color"]) if row["color"] else "", "title": row["title"]}
    if ptype.top == "Books":
        opener = _pick(rng, OPENERS_BOOKS)
    else:
        pool = OPENERS_GENERIC + OPENERS_BY_TOP.get(ptype.top, [])
        opener = _pick(rng, OPENERS_PLAIN if rng.random() < 0.3 else pool)
    optional: list[str] = []
    feature_tags = [t for t in row["tags"] if t in TAG_SENTENCES]
    if feature_tags:
        order = rng.permutation(len(feature_tags))[:2]
        optional += [_pick(rng, TAG_SENTENCES[feature_tags[i]]) for i in order]
    if ptype.noun in BOOK_SENTENCES:
        optional.append(_pick(rng, BOOK_SENTENCES[ptype.noun]))
    if material:
        optional.append(_pick(rng, MATERIAL_SENTENCES).replace("{material}", material))
    optional.append(_pick(rng, AUDIENCE_SENTENCES[ptype.audience]))
    sizes = row["size"].split("|") if row["size"] else []
    if sizes:
        label = "US " if ptype.sizes.startswith("shoe") else ""
        optional.append(_pick(rng, SIZE_SENTENCES).format(
            sizes=", ".join(sizes), n=len(sizes), first=sizes[0], last=sizes[-1], label=label,
            Sizes=f"{label}sizes" if label else "Sizes"))
    if rng.random() < 0.35:
        optional.append(_pick(rng, TIER_SENTENCES[tier]))
    if row["color"] and "color}" not in opener:  # {color} or {a_color}
        optional.append(_pick(rng, COLOR_SENTENCES))
    keep = int(rng.integers(2, 5))
    chosen = [optional[i] for i in sorted(rng.permutation(len(optional))[:keep].tolist())]
    if rng.random() < 0.5:  # vary structure: not always features first
        chosen = [chosen[i] for i in rng.permutation(len(chosen)).tolist()]
    sentences = [opener] + chosen
    if feature_tags and rng.random() < 0.12 and len(sentences) > 2:
        sentences[0], sentences[1] = sentences[1], sentences[0]
    text = " ".join(s.format(**fill) for s in sentences)
    return text[0].upper() + text[1:]


def generate_products(rng: np.random.Generator) -> Catalog:
    """Draw every product of every type, then shuffle and number them P00001..."""
    drafts = []
    for t_index, ptype in enumerate(PRODUCT_TYPES):
        brands = list(ptype.brands or CATEGORY_BRANDS[ptype.top])
        for _ in range(round(ptype.count * COUNT_SCALE)):
            drafts.append(_draft_product(rng, t_index, ptype, brands))
    order = rng.permutation(len(drafts)).tolist()
    catalog = Catalog()
    quality, popularity, rel_price = [], [], []
    for number, index in enumerate(order, start=1):
        row, t_index, tier, q, pop, rp = drafts[index]
        row["id"] = f"P{number:05d}"
        catalog.rows.append({key: row[key] for key in (
            "id", "title", "price", "description", "category", "brand", "color", "size",
            "audience", "tags", "rating", "rating_count", "in_stock", "image_url")})
        catalog.type_index.append(t_index)
        catalog.tier.append(tier)
        quality.append(q)
        popularity.append(pop)
        rel_price.append(rp)
    catalog.quality = np.array(quality)
    catalog.log_popularity = np.array(popularity)
    catalog.rel_log_price = np.array(rel_price)
    return catalog


def _draft_product(rng: np.random.Generator, t_index: int, ptype: ProductType, brands: list[str]):
    brand = _pick(rng, brands)
    tier = BRAND_TIERS[brand]
    material = _pick(rng, ptype.materials) if ptype.materials else ""
    color = _pick(rng, COLORS) if ptype.colored else ""
    tags = _draw_tags(rng, ptype, material)
    price = _draw_price(rng, ptype, tier)
    quality = TIER_QUALITY[tier] + rng.normal(0.0, 0.8)
    log_pop = rng.normal(0.0, 1.1)  # lognormal popularity: a long tail of rarely seen items
    rating_count = int(rng.poisson(np.exp(log_pop) * 35 * (1 + 0.4 * max(quality, -1)))) + 1
    noise = rng.normal(0.0, 0.5 / np.sqrt(rating_count))
    rating = float(np.clip(4.05 + 0.45 * quality + noise, 1.0, 5.0))
    row = {"title": "", "price": price, "description": "", "category": ptype.category,
           "brand": brand, "color": color, "size": _draw_sizes(rng, ptype.sizes),
           "audience": ptype.audience, "tags": tags, "rating": round(rating, 1),
           "rating_count": rating_count, "in_stock": bool(rng.random() < 0.93), "image_url": ""}
    row["title"] = _title(rng, ptype, brand, tags, color)
    row["description"] = _description(rng, ptype, row, tier, material)
    rel_price = float(np.log(price / np.sqrt(ptype.low * ptype.high)))
    return row, t_index, tier, float(quality), float(log_pop), rel_price


# ============================================================================ customers


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


# ============================================================================ events


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
    target = model.products_by_type[_pick(rng, complements)]
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


# ============================================================================ files


def write_products(catalog: Catalog, path: Path) -> None:
    """One JSON object per line, canonical field order."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for row in catalog.rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_customers(customers: list[Customer], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["customer_id", "segment", "age_band", "household"])
        for c in customers:
            writer.writerow([c.id, c.segment, c.age_band, c.household])


def write_events(events: list[tuple[int, int, int, int, str, str]], catalog: Catalog,
                 customers: list[Customer], path: Path) -> None:
    """Gzipped CSV with mtime=0 and no file name in the header, so bytes depend only on content."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["customer_id", "product_id", "event", "timestamp", "value"])
    base = int(BASE_TIME.timestamp())
    for t, c_index, _, p_index, event, value in events:
        stamp = datetime.fromtimestamp(base + t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow([customers[c_index].id, catalog.rows[p_index]["id"], event, stamp, value])
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    path.write_bytes(raw.getvalue())


def generate(out_dir: Path, seed: int = 7) -> dict:
    """Write products.jsonl, customers.csv and events.csv.gz into `out_dir`; return counts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    catalog = generate_products(rng)
    customers = generate_customers(rng)
    model = build_event_model(catalog)
    events = generate_events(rng, model, customers)
    write_products(catalog, out_dir / PRODUCTS_FILE)
    write_customers(customers, out_dir / CUSTOMERS_FILE)
    write_events(events, catalog, customers, out_dir / EVENTS_FILE)
    by_type: dict[str, int] = {}
    for row in events:
        by_type[row[4]] = by_type.get(row[4], 0) + 1
    return {
        "products": len(catalog.rows),
        "categories": len({r["category"].split(" > ")[0] for r in catalog.rows}),
        "customers": len(customers),
        "events": len(events),
        "event_types": {k: by_type.get(k, 0) for k in ("view", "click", "cart", "purchase", "rating")},
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m assistant.demo.generate [--out DIR] [--seed N]."""
    parser = argparse.ArgumentParser(description="Generate the Aisle demo store.")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"output folder (default {DATA_DIR})")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.out, args.seed)
    elapsed = time.perf_counter() - started
    print(json.dumps(counts, indent=2))
    print(f"wrote {args.out} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
