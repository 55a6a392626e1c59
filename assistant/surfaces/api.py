"""The JSON API (FastAPI) over one Assistant: its routes only (`server.py` adds the guard and the web app).

Shopper endpoints are open; staff and admin endpoints need the staff token (header `X-Staff-Token` or
`Authorization: Bearer ...`). With no token configured they are off (403), never open.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, File, Header, HTTPException, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field

from assistant.service.answers import headline
from assistant.service.assistant import STORE_ERRORS, Assistant, StoreUnavailable
from assistant.service.compare import compare
from assistant.service.followups import follow_ups

from assistant.surfaces.guard import staff_token_from

STOREFRONT_HEADER = "X-Storefront-Token"


class RecommendBody(BaseModel):
    message: str = Field(..., max_length=4_000, description="What the shopper wrote (English or Chinese).")
    conversation_id: str | None = Field(None, max_length=64, description="Continue this conversation.")
    segment: str | None = Field(None, max_length=64)
    customer: str | None = Field(None, max_length=256, description=(
        "The signed-in shopper's id, trusted only from the store's backend: it needs the X-Storefront-Token "
        "header (docs/security.md). Pseudonymised before any use."))
    k: int = Field(5, ge=1, le=20)
    reasons: bool = True


class ForgetBody(BaseModel):
    customer: str = Field(..., min_length=1, max_length=256, description="The customer's id or pseudonym.")


class FeedbackBody(BaseModel):
    conversation_id: str = Field(..., min_length=1, max_length=64)
    turn_id: str = Field(..., min_length=1, max_length=64)
    product_id: str = Field(..., min_length=1, max_length=128)
    kind: Literal["up", "down", "bought"]


class RuleBody(BaseModel):
    """A merchandising rule (docs/merchandising.md): pin / boost / block a product or a brand."""

    id: str | None = Field(None, max_length=40, description="Left out: the next free r1, r2, ...")
    action: Literal["pin", "boost", "block"]
    product: str = Field("", max_length=200)
    brand: str = Field("", max_length=200)
    query: str = Field("", max_length=200, description="Only when the shopper's words contain this phrase.")
    category: str = Field("", max_length=200, description="Only when the request names this category.")
    segment: str = Field("", max_length=64, description="Only for this segment key.")
    boost: float = Field(0.0, ge=-1.0, le=1.0)
    note: str = Field("", max_length=200)


class SwitchBody(BaseModel):
    name: str = Field(..., min_length=1, max_length=64, description="A published index (GET /api/indexes).")


def staff_refusal(assistant: Assistant, token: str | None) -> tuple[int, str] | None:
    """None when `token` opens the staff endpoints, else (status, why)."""
    if not assistant.settings.staff_token:
        return 403, "staff access is off: no staff token is configured (AISLE_STAFF_TOKEN)"
    if not assistant.staff_allowed(token):
        return 401, "a valid staff token is required"
    return None


def create_api(assistant: Assistant) -> FastAPI:
    """The API's routes over one Assistant (no guard, no web app: `server.create_app` composes those)."""
    app = FastAPI(title="Aisle API", version="0.1.0",
                  description="Recommendations, staff traces, feedback and index rebuilds for one store.")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input as UTF-8, so a lone surrogate ("\ud800", valid JSON)
        # turned this 422 into a 500 (found by benchmarks/soak.py); escaped ASCII always encodes.
        body = json.dumps({"detail": jsonable_encoder(error.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    def require_staff(x_staff_token: str | None = Header(None), authorization: str | None = Header(None)) -> None:
        # RequestGuard already refused a bad token before the body was read; this keeps each route safe alone.
        refusal = staff_refusal(assistant, staff_token_from(x_staff_token, authorization))
        if refusal is not None:
            raise HTTPException(*refusal)

    @app.get("/api/health")
    def health() -> dict:
        index = assistant.index
        warnings = assistant.check_published(every=assistant.settings.verify_seconds)
        return {"status": "degraded" if warnings else "ok", "warning": "; ".join(warnings) or None,
                "index": assistant.settings.index_name, "products": len(index.products),
                "build": index.manifest["build_id"], "embedder": index.model_id,
                "cf_model": assistant.cf_version, "cf_refits": assistant.cf_refits,
                "llm": assistant.settings.llm_model}

    @app.post("/api/recommend")
    def recommend(body: RecommendBody, x_storefront_token: str | None = Header(None)) -> dict:
        if body.customer is not None and not assistant.storefront_allowed(x_storefront_token):
            raise HTTPException(401, "a customer id is accepted only from the store's backend, with a valid "
                                     f"{STOREFRONT_HEADER} header; anonymous shoppers send none")
        if body.segment and body.segment not in assistant.segments:
            raise HTTPException(422, f"unknown segment {body.segment!r}; known: {', '.join(assistant.segments)}")
        conversation_id, rec = assistant.chat(body.message, body.conversation_id, body.segment, body.customer,
                                              body.k, reasons=body.reasons)
        result = rec.to_dict()
        result["conversation_id"] = conversation_id
        result["headline"] = headline(rec).to_dict()  # what was understood and relaxed, as the shop says it
        result["follow_ups"] = follow_ups(rec, assistant.store_profile())  # messages to offer next
        for item in result["items"]:
            item["reason"] = item["breakdown"].get("reason", "")
            del item["breakdown"]  # the trace is for staff (GET /api/why)
        return result

    @app.get("/api/compare")
    def compare_shown(turn_id: str = Query(..., max_length=64), positions: list[int] = Query(
            ..., description="1-based positions in the turn's answer, at least two (?positions=1&positions=3)",
            max_length=20)) -> dict:
        """The side-by-side table of products a turn showed, from their own fields (as "compare 1 and 3")."""
        try:
            record = assistant.turn(turn_id)
        except KeyError as err:
            raise HTTPException(404, str(err).strip("'\"")) from None
        shown = [c.product for c in record.result.candidates]
        if len(set(positions)) < 2 or not all(1 <= n <= len(shown) for n in positions):
            raise HTTPException(422, f"name at least two different positions between 1 and {len(shown)}")
        language = "zh" if record.request.language == "zh" else "en"
        currency = assistant.store_profile().currency
        return compare([shown[n - 1] for n in positions], currency, language, positions).to_dict()

    @app.post("/api/feedback")
    def feedback(body: FeedbackBody) -> dict:
        try:
            assistant.record_feedback(body.conversation_id, body.turn_id, body.product_id, body.kind)
        except (KeyError, ValueError) as err:
            raise HTTPException(422, str(err).strip("'\"")) from None
        except StoreUnavailable as err:
            raise HTTPException(503, str(err)) from None
        return {"status": "recorded"}

    @app.get("/api/why", dependencies=[Depends(require_staff)])
    def why(turn_id: str = Query(..., max_length=64), product_id: str = Query(..., max_length=128)) -> dict:
        try:
            return assistant.why(turn_id, product_id)
        except KeyError as err:
            raise HTTPException(404, str(err).strip("'\"")) from None

    @app.get("/api/why-not", dependencies=[Depends(require_staff)])
    def why_not(turn_id: str = Query(..., max_length=64), product_id: str = Query(..., max_length=128)) -> dict:
        try:
            return assistant.why_not(turn_id, product_id)
        except KeyError as err:
            raise HTTPException(404, str(err).strip("'\"")) from None

    @app.get("/api/rules", dependencies=[Depends(require_staff)])
    def rules() -> dict:
        book = assistant.rules
        return {"rules": [r.to_dict() for r in book.rules()], "warning": book.warning, "history": book.history(20)}

    @app.post("/api/rules", dependencies=[Depends(require_staff)])
    def add_rule(body: RuleBody) -> dict:
        from assistant.rank.rules import MerchRule, RuleError

        values = body.model_dump()
        values["id"] = values["id"] or assistant.rules.new_id()
        try:
            rule = assistant.rules.add(MerchRule.from_dict(values), actor="api (staff token)")
        except RuleError as err:
            raise HTTPException(422, str(err)) from None
        return {"status": "added", "rule": rule.to_dict()}

    @app.delete("/api/rules/{rule_id}", dependencies=[Depends(require_staff)])
    def remove_rule(rule_id: str) -> dict:
        try:
            rule = assistant.rules.remove(rule_id[:40], actor="api (staff token)")
        except KeyError:
            raise HTTPException(404, f"no rule {rule_id[:40]!r}") from None
        return {"status": "removed", "rule": rule.to_dict()}

    @app.post("/api/forget", dependencies=[Depends(require_staff)])
    def forget(body: ForgetBody) -> dict:
        try:
            return {"status": "forgotten", "removed": assistant.forget_customer(body.customer)}
        except STORE_ERRORS as err:
            raise HTTPException(503, f"their events are left out of later CF fits, but their stored feedback "
                                     f"and turn logs could not be deleted: {err}") from None

    @app.post("/api/index/preview", dependencies=[Depends(require_staff)])
    def preview(file: UploadFile = File(...), maps: list[str] = Query([], alias="map", max_length=40,
                                               description="FIELD=COLUMN, repeated")) -> dict:
        from assistant.ingest.preview import preview_catalog
        from assistant.ingest.tabular import DataFileError

        with tempfile.TemporaryDirectory() as tmp:
            path = save_uploads(Path(tmp), [file])[0]
            try:
                found = preview_catalog(path, {**assistant.settings.column_map, **mapping_of(maps)},
                                        limits=assistant.settings.limits, encoding=assistant.settings.catalog_encoding)
            except (DataFileError, ValueError) as err:
                raise HTTPException(422, str(err)) from None
        return {**found.to_dict(), "path": file.filename or "upload"}

    @app.get("/api/indexes", dependencies=[Depends(require_staff)])
    def indexes() -> dict:
        return {"served": assistant.settings.index_name, "indexes": assistant.available_indexes()}

    @app.post("/api/index/switch", dependencies=[Depends(require_staff)])
    def switch(body: SwitchBody) -> dict:
        from assistant.index import IndexError_

        try:
            assistant.switch_index(body.name)
        except (IndexError_, ValueError) as err:
            raise HTTPException(422, f"{err}; the served index did not change") from None
        return {"status": "switched", "served": body.name}

    @app.post("/api/index/rollback", dependencies=[Depends(require_staff)])
    def rollback() -> dict:
        from assistant.index import IndexError_

        try:
            return {"status": "rolled back", "build": assistant.rollback_index()}
        except (IndexError_, ValueError) as err:
            raise HTTPException(422, str(err)) from None

    @app.post("/api/index/rebuild", dependencies=[Depends(require_staff)])
    def rebuild(files: list[UploadFile] = File(...), maps: list[str] = Query([], alias="map", max_length=40,
                                               description="FIELD=COLUMN, repeated"),
                name: str | None = Query(None, max_length=64, description="Build this index beside the served one "
                                         "(switch to it with /api/index/switch); default: rebuild the served one."),
                currency: str | None = Query(None, max_length=8)) -> dict:
        from assistant.index import IndexDiskFull, IndexError_
        from assistant.ingest.tabular import DataFileError

        with tempfile.TemporaryDirectory() as tmp:
            paths = save_uploads(Path(tmp), files)
            try:
                summary = assistant.rebuild_index(paths, mapping_of(maps), name=name, currency=currency)
            except IndexDiskFull as err:
                raise HTTPException(507, f"{err}; the previous index keeps serving") from None
            except (DataFileError, IndexError_, ValueError) as err:
                raise HTTPException(422, f"{err}; the previous index keeps serving") from None
        return {"status": "published", "index": name or assistant.settings.index_name,
                "served": (name or assistant.settings.index_name) == assistant.settings.index_name,
                "build": summary.build_id, "loaded": summary.loaded,
                "rejected": summary.rejected, "re_embedded": summary.re_embedded, "reused": summary.reused,
                "seconds": round(summary.seconds, 2), "report": summary.report.to_dict()}

    return app


def save_uploads(folder: Path, files: list[UploadFile]) -> list[Path]:
    """Each upload copied into `folder` under a safe name of its own."""
    paths: list[Path] = []
    for upload in files:
        target = folder / upload_name(upload.filename, {p.name for p in paths})
        with open(target, "wb") as out:
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
        paths.append(target)
    return paths


def mapping_of(pairs: list[str]) -> dict[str, str]:
    """`map=FIELD=COLUMN` query values as a mapping (HTTP 422 for a bad one)."""
    from assistant.ingest.mapping import parse_field_map

    try:
        return parse_field_map(pairs)
    except ValueError as err:
        raise HTTPException(422, str(err)) from None


def upload_name(filename: str | None, taken: set[str]) -> str:
    """A safe file name for an uploaded catalog; a 400 naming what is wrong with it otherwise."""
    name = filename or "catalog.csv"
    if "\x00" in name or "/" in name or "\\" in name or name in (".", "..") or not name.strip(" ."):
        raise HTTPException(400, f"upload name {name[:80]!r} is not a plain file name")
    if len(name.encode("utf-8", "surrogatepass")) > 200:
        raise HTTPException(400, f"upload name of {len(name)} characters is longer than 200 bytes")
    if name in taken:
        raise HTTPException(400, f"two uploaded files are named {name!r}; give each file its own name")
    return name
