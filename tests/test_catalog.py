"""Unit tests for assistant.ingest.catalog: values, encodings, delimiters, mapping, validation, formats."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest

from assistant.ingest.catalog import (
    CatalogError,
    CatalogReport,
    Product,
    Rejection,
    catalog_hash,
    decode_text,
    parse_bool,
    parse_price,
    read_catalog,
    resolve_columns,
    row_to_product,
    sniff_delimiter,
    write_jsonl,
)

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


# ---------------------------------------------------------------------------- helpers


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    data = text.encode(encoding)
    if name.lower().endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def load(tmp_path, name: str, text: str, mapping=None, encoding: str = "utf-8"):
    return read_catalog([write(tmp_path, name, text, encoding)], mapping)


def rejections(report: CatalogReport) -> dict[int, str]:
    return {r.line: r.reason for r in report.rejections}


def ids(products) -> list[str]:
    return [p.id for p in products]


def make_product(**changes) -> Product:
    base = Product(
        id="A1", title="Rain Jacket", price=49.99, description="Waterproof shell.",
        category="Kids > Outerwear", brand="Acme", color="Yellow", size="S|M|L",
        audience="kids", tags=("rain", "hood"), rating=4.5, rating_count=12, in_stock=True,
        image_url="http://img/a1.jpg", attributes={"material": "nylon"},
    )
    return dataclasses.replace(base, **changes)


# ---------------------------------------------------------------------------- parse_price


@pytest.mark.parametrize("text, expected", [
    ("$1,299.00", 1299.0),
    ("1.299,00 €", 1299.0),
    ("€12", 12.0),
    ("12.5", 12.5),
    ("1 299,00", 1299.0),
    ("1\u00a0299,00", 1299.0),        # non-breaking space as thousands separator
    ("1\u202f299,00", 1299.0),        # narrow no-break space
    ("USD 40", 40.0),
    ("40 USD", 40.0),
    ("₹1,299", 1299.0),
    ("₹ 1 299", 1299.0),
    ("Rs. 500", 500.0),               # the abbreviation's dot is not a decimal point
    ("Rs.1,299", 1299.0),
    ("1,5", 1.5),
    ("1,50", 1.5),
    ("1,299", 1299.0),                # lone comma + exactly three digits: thousands
    ("12,500,000", 12500000.0),
    ("1.299.000", 1299000.0),
    ("1,299.5", 1299.5),
    ("  7  ", 7.0),
    (".5", 0.5),
    (0, 0.0),
    (12, 12.0),
    (12.25, 12.25),
    ("(5.00)", -5.0),
    ("-5", -5.0),
    ("$-5", -5.0),                    # sign after the currency symbol is kept
    ("€ -12", -12.0),
    ("USD (5.00)", -5.0),
])
def test_parse_price_accepts(text, expected):
    value = parse_price(text)
    assert isinstance(value, float)
    assert value == pytest.approx(expected)


@pytest.mark.parametrize("text", [
    "abc", "", "   ", "NaN", "nan", "inf", "-inf", "Infinity", "$", "1-2", "5 - 10", "1.2.3,4,5",
    True, False, float("nan"), float("inf"), float("-inf"),
])
def test_parse_price_rejects(text):
    with pytest.raises(ValueError):
        parse_price(text)


def test_parse_price_error_messages():
    with pytest.raises(ValueError, match="missing price"):
        parse_price("")
    with pytest.raises(ValueError, match=r"price 'abc' is not a number"):
        parse_price("abc")
    with pytest.raises(ValueError, match="not a number"):
        parse_price(True)
    with pytest.raises(ValueError, match="finite"):
        parse_price(float("inf"))


# ---------------------------------------------------------------------------- parse_bool


@pytest.mark.parametrize("text, expected", [
    ("yes", True), ("Y", True), ("TRUE", True), ("1", True), ("In Stock", True), ("available", True),
    (" t ", True), (True, True), (1, True), (2.5, True),
    ("no", False), ("N", False), ("false", False), ("0", False), ("Out of stock", False),
    ("sold out", False), ("unavailable", False), (False, False), (0, False), (0.0, False),
])
def test_parse_bool(text, expected):
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["maybe", "", "2", "yess", None])
def test_parse_bool_rejects(text):
    with pytest.raises(ValueError, match="is not yes/no"):
        parse_bool(text)


# ---------------------------------------------------------------------------- decode_text


def test_decode_text_utf8_plain_and_bom():
    assert decode_text("id,café".encode("utf-8")) == ("id,café", None)
    assert decode_text(b"\xef\xbb\xbf" + "id,café".encode("utf-8")) == ("id,café", None)


@pytest.mark.parametrize("bom, codec", [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_decode_text_utf16_with_bom(bom, codec):
    text, note = decode_text(bom + "id,title\n1,Café €".encode(codec))
    assert text == "id,title\n1,Café €"
    assert note is None


def test_decode_text_cp1252_fallback_has_note():
    text, note = decode_text("abc;Café;12 €".encode("cp1252"))
    assert text == "abc;Café;12 €"
    assert note is not None and "Windows-1252" in note and "byte 7" in note


# ---------------------------------------------------------------------------- sniff_delimiter


@pytest.mark.parametrize("sample, expected", [
    ("id,title,price\n1,Shirt,5\n2,Hat,3\n", ","),
    ("id;title;price\n1;Shirt;12,50\n2;Hat;3,00\n", ";"),
    ("id\ttitle\tprice\n1\tShirt, red\t5\n2\tHat\t3\n", "\t"),
    ("id|title|price\n1|Shirt|5\n2|Hat|3\n", "|"),
    ('id,title,price\n1,"multi\nline, text",5\n2,x,3\n', ","),
])
def test_sniff_delimiter(sample, expected):
    assert sniff_delimiter(sample) == expected


def test_sniff_delimiter_fallbacks():
    assert sniff_delimiter("") == ","
    assert sniff_delimiter("", default=";") == ";"
    assert sniff_delimiter("id") == ","


# ---------------------------------------------------------------------------- encodings through read_catalog


def test_utf8_bom_header_first_column_is_id(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "id,title,price\nA1,Café,5\n".encode("utf-8"))
    products, report = read_catalog([path])
    assert ids(products) == ["A1"]
    assert products[0].title == "Café"
    assert "id" not in products[0].attributes and not products[0].attributes
    assert report.notes == []


def test_utf16_with_bom(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("id,title,price\nA1,Crème brûlée,5\nA2,Ümlaut,6\n".encode("utf-16"))  # BOM + native order
    products, report = read_catalog([path])
    assert [(p.id, p.title) for p in products] == [("A1", "Crème brûlée"), ("A2", "Ümlaut")]
    assert report.notes == [] and report.rejected == 0


def test_cp1252_file_is_read_with_note(tmp_path):
    products, report = load(tmp_path, "win.csv", "id;title;price\nA1;Café crème;12,50 €\nA2;Tea;3\n",
                            encoding="cp1252")
    assert [(p.id, p.title, p.price) for p in products] == [("A1", "Café crème", 12.5), ("A2", "Tea", 3.0)]
    assert len(report.notes) == 1
    assert report.notes[0].startswith("win.csv: not valid UTF-8")
    assert "Windows-1252" in report.notes[0]


# ---------------------------------------------------------------------------- delimiters through read_catalog


@pytest.mark.parametrize("name, text", [
    ("comma.csv", "id,title,price\nA1,Shirt,12.50\nA2,Hat,3\n"),
    ("semi.csv", "id;title;price\nA1;Shirt;12,50\nA2;Hat;3,00\n"),
    ("tab.csv", "id\ttitle\tprice\nA1\tShirt\t12.50\nA2\tHat\t3\n"),
    ("pipe.csv", "id|title|price\nA1|Shirt|12.50\nA2|Hat|3\n"),
    ("plain.tsv", "id\ttitle\tprice\nA1\tShirt\t12.50\nA2\tHat\t3\n"),
    ("notes.txt", "id,title,price\nA1,Shirt,12.50\nA2,Hat,3\n"),
])
def test_delimiters(tmp_path, name, text):
    products, report = load(tmp_path, name, text)
    assert [(p.id, p.title, p.price) for p in products] == [("A1", "Shirt", 12.5), ("A2", "Hat", 3.0)]
    assert report.rejected == 0


TRICKY_TSV = 'id\ttitle\tprice\nA1\tSign reading "OPEN", "CLOSED", both\t5\nA2\tHat\t3\n'


@pytest.mark.parametrize("name", ["signs.tsv", "signs.tsv.gz", "SIGNS.TSV"])
def test_tsv_is_always_tab_separated(tmp_path, name):
    # A sniffer would take the quoted ', "CLOSED",' for a comma-delimited file.
    products, report = load(tmp_path, name, TRICKY_TSV)
    assert [p.title for p in products] == ['Sign reading "OPEN", "CLOSED", both', "Hat"]
    assert report.rejected == 0


def test_quoted_fields_with_delimiters_and_quotes(tmp_path):
    text = 'id,title,price\nA1,"Shirt, blue ""classic""","1,299.00"\n'
    products, _ = load(tmp_path, "q.csv", text)
    assert products[0].title == 'Shirt, blue "classic"'
    assert products[0].price == 1299.0


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_embedded_newlines_keep_physical_line_numbers(tmp_path, newline):
    lines = [
        "id,title,price,description",             # 1
        'A1,Shirt,5,"line one',                   # 2
        "line two",                               # 3
        'line three"',                            # 4
        "A2,Hat,abc,plain",                       # 5  bad price
        'A3,Cap,4,"x',                            # 6
        'y"',                                     # 7
        "",                                       # 8  blank: skipped
        "A3,Dup,4,z",                             # 9  duplicate of line 6
        "A4,Sock,2,ok",                           # 10
    ]
    products, report = load(tmp_path, "nl.csv", newline.join(lines) + newline)
    assert ids(products) == ["A1", "A3", "A4"]
    assert products[0].description == "line one line two line three"  # whitespace collapsed
    assert rejections(report) == {
        5: "price 'abc' is not a number",
        9: "duplicate id 'A3' (first at nl.csv:6)",
    }
    assert all(r.file == "nl.csv" for r in report.rejections)


# ---------------------------------------------------------------------------- column mapping


def test_resolve_columns_explicit_mapping():
    columns = ["SKU", "ProductName", "Price (INR)", "name"]
    resolved = resolve_columns(columns, {"title": "ProductName", "price": "Price (INR)"})
    assert resolved == {"title": "ProductName", "price": "Price (INR)", "id": "SKU"}


def test_resolve_columns_synonyms_case_insensitive():
    resolved = resolve_columns(["SKU", "Name", "COST", "Colour", "Manufacturer", "Sizes", "Stars"])
    assert resolved == {"id": "SKU", "title": "Name", "price": "COST", "color": "Colour",
                        "brand": "Manufacturer", "size": "Sizes", "rating": "Stars"}


def test_resolve_columns_mapping_is_case_insensitive_and_claims_column():
    resolved = resolve_columns(["name", "title", "price", "item"], {"price": " PRICE ", "id": "NAME"})
    assert resolved["price"] == "price"
    assert resolved["id"] == "name"      # taken by the mapping: not reused as title's synonym
    assert resolved["title"] == "title"


def test_resolve_columns_missing_mapped_column():
    with pytest.raises(CatalogError, match=r"mapping title='ProductName'.*no column 'ProductName'"):
        resolve_columns(["id", "name", "price"], {"title": "ProductName"})
    assert resolve_columns(["id", "name", "price"], {"title": "ProductName"}, missing_ok=True)["title"] == "name"


def test_resolve_columns_unknown_canonical_field():
    with pytest.raises(CatalogError, match=r"unknown field 'colour_name'"):
        resolve_columns(["id"], {"colour_name": "id"}, missing_ok=True)


def test_read_catalog_with_explicit_mapping(tmp_path):
    text = "Code,ProductName,Price (INR),Colour\nP1,Kurta,\"₹1,299\",Red\nP2,Saree,Rs. 500,Blue\n"
    products, report = load(tmp_path, "in.csv", text,
                            mapping={"id": "Code", "title": "ProductName", "price": "Price (INR)"})
    assert [(p.id, p.title, p.price, p.color) for p in products] == [
        ("P1", "Kurta", 1299.0, "Red"), ("P2", "Saree", 500.0, "Blue")]
    assert products[0].attributes == {}
    assert report.rejected == 0


def test_read_catalog_synonyms(tmp_path):
    text = "SKU,Name,Cost,Colour,Gender\nS1,Hoodie,20,Grey,Women\n"
    (product,), _ = load(tmp_path, "syn.csv", text)
    assert (product.id, product.title, product.price, product.color, product.audience) == (
        "S1", "Hoodie", 20.0, "Grey", "women")


def test_read_catalog_mapping_names_missing_column(tmp_path):
    path = write(tmp_path, "m.csv", "id,name,price\n1,a,2\n")
    with pytest.raises(CatalogError, match=r"m\.csv.*'ProductName'"):
        read_catalog([path], {"title": "ProductName"})


def test_read_catalog_unknown_canonical_field(tmp_path):
    path = write(tmp_path, "u.csv", "id,title,price\n1,a,2\n")
    with pytest.raises(CatalogError, match="unknown field 'colour'"):
        read_catalog([path], {"colour": "title"})


def test_read_catalog_lacking_required_columns_suggests_map(tmp_path):
    path = write(tmp_path, "r.csv", "id,Headline,amount\n1,a,2\n")
    with pytest.raises(CatalogError) as info:
        read_catalog([path])
    message = str(info.value)
    assert "r.csv" in message and "title, price" in message and "--map" in message
    assert "Headline, amount" in message  # lists the columns it does have


@pytest.mark.parametrize("name, error", [
    ("missing.csv", "no such file"),
    ("catalog.xlsx", "unknown file format '.xlsx'"),
    ("catalog", "unknown file format '(no extension)'"),
])
def test_read_catalog_unusable_files(tmp_path, name, error):
    path = tmp_path / name
    if name != "missing.csv":
        path.write_text("id,title,price\n1,a,2\n")
    with pytest.raises(CatalogError, match=error.replace("(", r"\(").replace(")", r"\)")):
        read_catalog([path])


# ---------------------------------------------------------------------------- validation messages


LONG_TITLE = "x" * 301


@pytest.mark.parametrize("bad_row, reason", [
    (",No id,5,,,", "missing id"),
    ("B1,,5,,,", "missing title"),
    ("B1,   ,5,,,", "missing title"),
    ("B1,Shirt,,,,", "missing price"),
    ("B1,Shirt,cheap,,,", "price 'cheap' is not a number"),
    ("B1,Shirt,-5,,,", "negative price -5"),
    ("B1,Shirt,(2.50),,,", "negative price -2.5"),
    (f"B1,{LONG_TITLE},5,,,", "field 'title' is 301 characters long (limit 300)"),
    ("B1,Shirt,5,7,,", "rating 7 is outside 0..5"),
    ("B1,Shirt,5,-1,,", "rating -1 is outside 0..5"),
    ("B1,Shirt,5,great,,", "rating 'great' is not a number"),
    ("B1,Shirt,5,,many,", "rating_count 'many' is not a whole number"),
    ("B1,Shirt,5,,inf,", "rating_count 'inf' is not a whole number"),
    ("B1,Shirt,5,,-3,", "negative rating_count -3"),
    ("B1,Shirt,5,,,maybe", "in_stock 'maybe' is not yes/no"),
    ("B1,Shirt,5,,,,extra", "7 fields but the header has 6"),
])
def test_csv_validation_messages(tmp_path, bad_row, reason):
    text = "\n".join([
        "id,title,price,rating,rating_count,in_stock",
        "G1,Good one,1,4.5,10,yes",
        bad_row,
        "G2,Good two,2,,,no",
    ]) + "\n"
    products, report = load(tmp_path, "v.csv", text)
    assert ids(products) == ["G1", "G2"]
    assert report.rejections == [Rejection("v.csv", 3, reason)]
    assert str(report.rejections[0]) == f"v.csv:3: {reason}"
    assert report.rows_read == 3 and report.loaded == 2 and report.rejected == 1


def test_field_limits_reject_an_extra_column_and_cut_a_long_description(tmp_path):
    words = ("word " * 4_000).strip()  # 19,999 characters, as real catalogs have
    text = "\n".join([
        "id,title,price,description,notes",
        "A1,Ok,1,short,fine",
        f"A2,Long desc,1,{words},",
        f"A3,Long note,1,,{'n' * 1_001}",
        f"A4,Edge,1,{'d' * 10_000},{'n' * 1_000}",
        f"A5,One long word,1,{'d' * 10_001},",
    ]) + "\n"
    products, report = load(tmp_path, "lim.csv", text)
    assert ids(products) == ["A1", "A2", "A4", "A5"]  # a long description is never a reason to reject
    assert rejections(report) == {4: "field 'notes' is 1,001 characters long (limit 1,000)"}
    by_id = {p.id: p for p in products}
    assert len(by_id["A2"].description) <= 10_000 and by_id["A2"].description.endswith("word")  # at a space
    assert words.startswith(by_id["A2"].description)
    assert by_id["A4"].description == "d" * 10_000 and by_id["A5"].description == "d" * 10_000
    assert report.notes == ["2 description(s) longer than 10,000 characters were cut to 10,000"]


def test_duplicate_id_across_files_names_first_location(tmp_path):
    a = write(tmp_path, "a.csv", "id,title,price\nX1,First,1\nX2,Second,2\n")
    b = write(tmp_path, "b.jsonl", '{"id": "X3", "title": "Third", "price": 3}\n'
                                   '{"id": "X2", "title": "Again", "price": 9}\n')
    products, report = read_catalog([a, b])
    assert ids(products) == ["X1", "X2", "X3"]
    assert products[1].title == "Second"
    assert report.rejections == [Rejection("b.jsonl", 2, "duplicate id 'X2' (first at a.csv:3)")]
    assert report.files == [str(a), str(b)]


def test_short_rows_are_padded_and_blank_lines_skipped(tmp_path):
    products, report = load(tmp_path, "s.csv", "id,title,price,color\nA1,Shirt,5\n\n,,,\nA2,Hat\n")
    assert ids(products) == ["A1"]
    assert products[0].color == ""
    assert rejections(report) == {5: "missing price"}
    assert report.rows_read == 2


def test_empty_and_header_only_files(tmp_path):
    assert load(tmp_path, "empty.csv", "") == ([], CatalogReport(files=[str(tmp_path / "empty.csv")]))
    products, report = load(tmp_path, "header.csv", "id,title,price\n")
    assert products == [] and report.rows_read == 0


# ---------------------------------------------------------------------------- row_to_product


def test_row_to_product_fields_and_attributes():
    row = {"id": " A1 ", "title": "  Rain   Jacket ", "price": "9.999", "tags": "rain|hood; kids, yellow",
           "audience": "KIDS", "rating": "4,5", "rating_count": "1,234", "in_stock": "Out of stock",
           "material": "nylon", "empty": "  ", "size": "S|M|L"}
    columns = resolve_columns(row)
    product = row_to_product(row, columns)
    assert product.id == "A1"
    assert product.title == "Rain Jacket"
    assert product.price == 10.0
    assert product.tags == ("rain", "hood", "kids", "yellow")
    assert product.audience == "kids"
    assert product.rating == 4.5
    assert product.rating_count == 1234
    assert product.in_stock is False
    assert product.attributes == {"material": "nylon"}
    assert product.sizes == ("S", "M", "L")


def test_row_to_product_defaults():
    product = row_to_product({"id": "1", "title": "t", "price": 3}, {"id": "id", "title": "title", "price": "price"})
    assert (product.rating, product.rating_count, product.in_stock, product.tags, product.attributes) == (
        None, 0, True, (), {})


# ---------------------------------------------------------------------------- JSONL


def test_jsonl_rows_and_errors(tmp_path):
    lines = [
        json.dumps({"id": "J1", "title": "One", "price": 10, "tags": ["a", "b"], "in_stock": False,
                    "rating": 4, "rating_count": 3, "material": "wool"}),   # 1
        "",                                                                  # 2 blank
        "{not json",                                                         # 3
        "[1, 2, 3]",                                                         # 4
        '"just a string"',                                                   # 5
        json.dumps({"id": "J2", "name": "Two", "cost": "$1,299.00"}),        # 6 different keys
        json.dumps({"id": "J3", "price": 1}),                                # 7 no title
        json.dumps({"id": "J4", "title": "Four", "price": True}),            # 8 bool price
        json.dumps({"id": 5, "title": "Five", "price": 5.5, "rating": None}),  # 9 numeric id
    ]
    products, report = load(tmp_path, "p.jsonl", "\n".join(lines) + "\n")
    assert ids(products) == ["J1", "J2", "5"]
    j1 = products[0]
    assert (j1.tags, j1.in_stock, j1.rating, j1.rating_count, j1.attributes) == (
        ("a", "b"), False, 4.0, 3, {"material": "wool"})
    assert products[1].title == "Two" and products[1].price == 1299.0
    assert products[2].rating is None
    reasons = rejections(report)
    assert set(reasons) == {3, 4, 5, 7, 8}
    assert reasons[3].startswith("invalid JSON (")
    assert reasons[4] == "expected a JSON object, got list"
    assert reasons[5] == "expected a JSON object, got str"
    assert reasons[7] == "missing title"
    assert reasons[8] == "price is not a number"
    assert all(r.file == "p.jsonl" for r in report.rejections)
    assert report.rows_read == 8


def test_jsonl_bom_crlf_and_unicode_line_separators(tmp_path):
    rows = [{"id": "L1", "title": "Para\u2028graph", "price": 1, "note": "a\u0085b"},
            {"id": "L2", "title": "Two", "price": 2}]
    text = "\ufeff" + "\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n{bad\r\n"
    products, report = load(tmp_path, "u.jsonl", text)
    assert ids(products) == ["L1", "L2"]
    assert products[0].title == "Para graph"
    assert products[0].attributes == {"note": "a\u0085b"}
    assert list(rejections(report)) == [3]


def test_jsonl_mapping_tolerates_missing_column_but_not_unknown_field(tmp_path):
    path = write(tmp_path, "m.jsonl", '{"id": "1", "ProductName": "A", "price": 1}\n'
                                      '{"id": "2", "title": "B", "price": 2}\n')
    products, report = read_catalog([path], {"title": "ProductName"})
    assert [p.title for p in products] == ["A", "B"]
    with pytest.raises(CatalogError, match="unknown field"):
        read_catalog([path], {"headline": "ProductName"})


# ---------------------------------------------------------------------------- gzip


@pytest.mark.parametrize("name, text", [
    ("c.csv.gz", "id,title,price\nZ1,Gz,1\nZ2,,2\n"),
    ("c.CSV.GZ", "id,title,price\nZ1,Gz,1\nZ2,,2\n"),
    ("c.tsv.gz", "id\ttitle\tprice\nZ1\tGz\t1\nZ2\t\t2\n"),
    ("c.jsonl.gz", '{"id": "Z1", "title": "Gz", "price": 1}\n{"id": "Z2", "price": 2}\n'),
])
def test_gzip_files(tmp_path, name, text):
    products, report = load(tmp_path, name, text)
    assert [(p.id, p.title) for p in products] == [("Z1", "Gz")]
    assert report.rejections == [Rejection(name, 2 if name.endswith("jsonl.gz") else 3, "missing title")]
    assert report.notes == []


# ---------------------------------------------------------------------------- Parquet


def test_parquet_rows_numbered_from_one(tmp_path):
    table = pa.table({
        "sku": [1, 2, 3, 4],
        "title": ["Boot", "Bad", "Scarf", "Boot again"],
        "price": [59.9, -1.0, None, 10.0],
        "tags": [["winter", "leather"], [], ["wool"], None],
        "in_stock": [True, False, None, True],
        "rating": [4.0, None, 3.5, None],
        "material": ["leather", None, "wool", "x"],
    })
    path = tmp_path / "cat.parquet"
    pq.write_table(table, path)
    products, report = read_catalog([path])
    assert ids(products) == ["1", "4"]
    boot = products[0]
    assert (boot.title, boot.price, boot.tags, boot.in_stock, boot.rating, boot.attributes) == (
        "Boot", 59.9, ("winter", "leather"), True, 4.0, {"material": "leather"})
    assert report.rejections == [Rejection("cat.parquet", 2, "negative price -1"),
                                 Rejection("cat.parquet", 3, "missing price")]
    assert report.rows_read == 4


def test_parquet_missing_required_column_and_damaged_file(tmp_path):
    path = tmp_path / "nocol.pq"
    pq.write_table(pa.table({"id": ["1"], "title": ["A"]}), path)
    with pytest.raises(CatalogError, match="price"):
        read_catalog([path])
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(CatalogError, match="not a readable Parquet file"):
        read_catalog([broken])


# ---------------------------------------------------------------------------- Product


@pytest.mark.parametrize("tags_text, expected", [
    ("a|b;c,d", ("a", "b", "c", "d")),
    (" rain | hood ;; kids ,", ("rain", "hood", "kids")),
    ("single", ("single",)),
    ("", ()),
])
def test_tags_split(tags_text, expected):
    product = row_to_product({"id": "1", "title": "t", "price": "1", "tags": tags_text},
                             {"id": "id", "title": "title", "price": "price", "tags": "tags"})
    assert product.tags == expected


@pytest.mark.parametrize("size, expected", [
    ("S|M|L", ("S", "M", "L")), ("S; M ;L", ("S", "M", "L")), ("XL", ("XL",)), ("", ()), ("S||M", ("S", "M")),
])
def test_sizes(size, expected):
    assert make_product(size=size).sizes == expected


@pytest.mark.parametrize("category, expected", [
    ("Kids > Outerwear", ("Kids", "Outerwear")),
    ("Home/Kitchen/ Knives ", ("Home", "Kitchen", "Knives")),
    ("Shoes", ("Shoes",)),
    ("", ()),
    (" > ", ()),
])
def test_category_path(category, expected):
    assert make_product(category=category).category_path == expected


def test_embedding_text_contents():
    assert make_product().embedding_text() == (
        "Rain Jacket. Kids > Outerwear. Acme. Yellow. kids. rain hood. Waterproof shell.")
    bare = Product(id="1", title="Mug", price=3.0)
    assert bare.embedding_text() == "Mug"


@pytest.mark.parametrize("change", [
    {"title": "Snow Jacket"}, {"description": "Windproof shell."}, {"category": "Adults"},
    {"brand": "Other"}, {"color": "Red"}, {"audience": "women"}, {"tags": ("rain",)},
])
def test_content_hash_changes_with_embedded_text(change):
    assert make_product(**change).content_hash() != make_product().content_hash()


@pytest.mark.parametrize("change", [
    {"price": 1.0}, {"rating": 1.0}, {"rating": None}, {"rating_count": 999}, {"in_stock": False},
    {"image_url": "http://other"}, {"size": "XL"}, {"id": "Z9"}, {"attributes": {"material": "wool"}},
])
def test_content_hash_ignores_non_embedded_fields(change):
    assert make_product(**change).content_hash() == make_product().content_hash()


def test_content_hash_shape():
    digest = make_product().content_hash()
    assert len(digest) == 32 and int(digest, 16) >= 0


@pytest.mark.parametrize("product", [
    make_product(),
    Product(id="1", title="Mug", price=3.0),
    make_product(rating=None, tags=(), attributes={}, in_stock=False),
])
def test_to_dict_from_dict_round_trip(product):
    data = product.to_dict()
    assert isinstance(data["tags"], list) and isinstance(data["attributes"], dict)
    assert json.loads(json.dumps(data)) == data
    assert Product.from_dict(data) == product
    assert Product.from_dict(json.loads(json.dumps(data))) == product


def test_catalog_hash_order_independent_and_content_sensitive():
    a, b, c = make_product(id="A"), make_product(id="B", title="Other"), Product(id="C", title="Cup", price=2.0)
    assert catalog_hash([a, b, c]) == catalog_hash([c, a, b])
    assert catalog_hash([a, b, c]) != catalog_hash([a, b])
    assert catalog_hash([a, b]) != catalog_hash([a, dataclasses.replace(b, price=1.0)])
    assert catalog_hash([a, b]) != catalog_hash([a, dataclasses.replace(b, attributes={"k": "v"})])
    assert catalog_hash([]) == catalog_hash([])
    assert len(catalog_hash([a])) == 64


def test_write_jsonl_round_trip(tmp_path):
    products = [make_product(attributes={"material": "nylon"}),
                Product(id="2", title="Tasse «café»", price=3.5, rating=None)]
    out = tmp_path / "out.jsonl"
    write_jsonl(products, out)
    text = out.read_text(encoding="utf-8")
    assert "«café»" in text  # not ASCII-escaped
    assert json.loads(text.splitlines()[0])["material"] == "nylon"  # attributes become plain columns
    loaded, report = read_catalog([out])
    assert loaded == products
    assert report.rejected == 0


# ---------------------------------------------------------------------------- CatalogReport


def test_report_format_and_to_dict(tmp_path):
    products, report = load(tmp_path, "r.csv", "id,title,price\nA1,Ok,1\nA2,,2\nA3,Ok,x\nA4,Ok,4\n")
    report.notes.append("r.csv: something")
    text = report.format()
    assert text.splitlines() == [
        "2 products loaded, 2 rows rejected from 1 file(s).",
        "note: r.csv: something",
        "rejected r.csv:3: missing title",
        "rejected r.csv:4: price 'x' is not a number",
    ]
    limited = report.format(limit=1).splitlines()
    assert limited[-2:] == ["rejected r.csv:3: missing title", "... and 1 more rejected rows"]
    data = report.to_dict()
    assert (data["rows_read"], data["loaded"], data["rejected"]) == (4, 2, 2)
    assert data["rejections"][0] == {"file": "r.csv", "line": 3, "reason": "missing title"}
    json.dumps(data)


def test_report_format_when_clean():
    assert CatalogReport(files=["a", "b"], rows_read=3, loaded=3).format() == (
        "3 products loaded, 0 rows rejected from 2 file(s).")
