"""An operator's catalog desk: preview a foreign file, map it, build it under a new name while the live store
keeps serving, switch to it and see its own currency."""

from __future__ import annotations

import json

from click.testing import CliRunner
from fastapi.testclient import TestClient

from assistant.ingest.preview import column_kind, preview_catalog
from conftest import shop_over

FASHION = ("ProductName,Price (INR),Colour,Gender,SKU Code,Image,Pack\n"
           "Navy Blue Kurta,1499,Navy Blue,Men,F1,https://img.example/1.jpg,16 OZ\n"
           "Gold Earrings,\"2,299\",Gold,Women,F2,https://img.example/2.jpg,1 DZ\n"
           "Cotton Tee,599,,Boys,F3,,2 CT\n"
           "Silk Saree,4999,Red,Women,F4,https://img.example/4.jpg,\n")
STAFF = {"X-Staff-Token": "staff-secret-0123456789"}


def test_the_preview_maps_columns_by_name_detects_types_and_the_currency_and_lists_empty_fields(tmp_path) -> None:
    path = tmp_path / "fashion.csv"
    path.write_text(FASHION, encoding="utf-8")
    found = preview_catalog(path, {"id": "SKU Code"})
    by_name = {c.name: c for c in found.columns}
    assert found.mapping == {"id": "SKU Code", "title": "ProductName", "price": "Price (INR)", "color": "Colour",
                             "audience": "Gender", "image_url": "Image"}
    assert found.currency == "INR" and found.missing_required == []
    assert {"description", "brand", "size", "category"} <= set(found.empty_fields)
    assert by_name["Price (INR)"].kind == "number" and by_name["Image"].kind == "url"
    assert by_name["Pack"].kind == "text" and by_name["Pack"].field is None  # "16 OZ" is no price
    assert by_name["Colour"].filled == 0.75 and by_name["Colour"].examples == ("Navy Blue", "Gold", "Red")
    assert found.rows[1]["Price (INR)"] == "2,299" and len(found.rows) == 4
    assert preview_catalog(path).missing_required == ["id"]  # "SKU Code" is not a name the reader knows


def test_a_preview_reads_only_its_sample_of_a_big_file(tmp_path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("id,title,price\n" + "".join(f"p{i},Thing {i},${i}.99\n" for i in range(5000)), encoding="utf-8")
    found = preview_catalog(path, rows=3)
    assert found.sampled == 200 and len(found.rows) == 3 and found.currency == "USD"
    assert {c.name: c.kind for c in found.columns}["price"] == "price"


def test_column_kinds() -> None:
    assert column_kind(["yes", "no", "yes"]) == "boolean"
    assert column_kind(["S|M|L", "M|L"]) == "list"
    assert column_kind(["", " "]) == "empty"
    assert column_kind(["€1.299,00", "€12,50"]) == "price"
    assert column_kind(["word " * 40]) == "long text"


def test_the_cli_preview_says_what_maps_and_what_is_missing(tmp_path, settings) -> None:
    from assistant.surfaces.cli import main

    path = tmp_path / "fashion.csv"
    path.write_text(FASHION, encoding="utf-8")
    shown = CliRunner().invoke(main, ["index", "preview", str(path)])
    assert shown.exit_code == 0, shown.output
    assert "MISSING required: id" in shown.output and "currency: INR" in shown.output
    mapped = CliRunner().invoke(main, ["index", "preview", str(path), "--map", "id=SKU Code", "--json"])
    assert json.loads(mapped.output)["mapping"]["id"] == "SKU Code"


def test_build_a_foreign_catalog_under_a_new_name_while_the_store_serves_then_switch_and_back(settings, tmp_path) -> None:
    from assistant.surfaces.api import create_api

    shop = shop_over(settings, 40, staff_token=STAFF["X-Staff-Token"])
    client = TestClient(create_api(shop))
    upload = {"file": ("fashion.csv", FASHION.encode(), "text/csv")}
    assert client.post("/api/index/preview", files=upload).status_code == 401
    seen = client.post("/api/index/preview", files=upload, headers=STAFF, params={"map": "id=SKU Code"}).json()
    assert seen["currency"] == "INR" and seen["mapping"]["title"] == "ProductName"
    built = client.post("/api/index/rebuild", headers=STAFF, params={"map": "id=SKU Code", "name": "fashion"},
                        files=[("files", ("fashion.csv", FASHION.encode(), "text/csv"))])
    assert built.status_code == 200, built.text
    assert built.json()["index"] == "fashion" and built.json()["served"] is False and built.json()["loaded"] == 4
    assert client.get("/api/health").json()["index"] == "shop"  # the live store kept serving
    assert set(client.get("/api/indexes", headers=STAFF).json()["indexes"]) >= {"shop", "fashion"}
    assert client.post("/api/index/switch", headers=STAFF, json={"name": "../etc"}).status_code == 422
    assert client.post("/api/index/switch", headers=STAFF, json={"name": "fashion"}).status_code == 200
    answer = client.post("/api/recommend", json={"message": "earrings", "reasons": True}).json()
    assert answer["items"][0]["product"]["title"] == "Gold Earrings"
    assert "₹" in answer["items"][0]["reason"] and "$" not in answer["items"][0]["reason"]
    assert client.post("/api/index/switch", headers=STAFF, json={"name": "shop"}).json()["served"] == "shop"


def test_over_http_the_catalog_desk_needs_the_staff_token(live_server) -> None:
    for method, path in (("POST", "/api/index/preview"), ("POST", "/api/index/switch"),
                         ("POST", "/api/index/rollback"), ("GET", "/api/indexes")):
        answer = live_server.request(method, path, {"name": "demo"} if path.endswith("switch") else None)
        assert answer.status == 401 and b"staff token" in answer.body, (path, answer.status)
    assert live_server.request("GET", "/api/indexes", headers=live_server.staff()).json()["served"] == "demo"
