"""The Admin tab, an operator's catalog desk: upload → preview of the first rows with each column's detected
type → the mapping as one dropdown per field, pre-filled from the column names → which fields stay empty →
build into a new named index while the live one serves (or, explicitly, replace the live one) → switch with
one click, roll back; the store's currency set here. Every handler needs the staff token; every file value is
escaped before it reaches the page."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from assistant.ingest.catalog import CANONICAL_FIELDS, REQUIRED_FIELDS
from assistant.ingest.preview import unmapped
from assistant.service.assistant import Assistant
from assistant.surfaces.web.staff import REFUSED, staff_only
from assistant.surfaces.web.text import markdown_literal, store_profile_text

NONE = "(none)"


def upload_paths(files: Any) -> list[Path]:
    """Gradio's copies of the uploaded files."""
    items = files if isinstance(files, list) else [files] if files else []
    return [Path(f if isinstance(f, str) else f.name) for f in items]


def index_name_for(path: Path, taken: list[str]) -> str:
    """A new index name from a file name ("Fashion Catalog (INR).csv" -> "fashion-catalog-inr")."""
    stem = path.name.split(".")[0]
    base = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "catalog"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def preview_html(found) -> str:
    """The preview's columns and first rows as an escaped HTML table."""
    head = "".join(f"<th>{html.escape(c.name)}<br><small>{html.escape(c.kind)} · {c.filled:.0%} filled"
                   f"{' → ' + html.escape(c.field) if c.field else ''}</small></th>" for c in found.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(row.get(c.name, '')[:80])}</td>" for c in found.columns)
                   + "</tr>" for row in found.rows)
    return f"<div style='overflow-x:auto'><table><tr>{head}</tr>{rows}</table></div>"


def mapping_summary(mapping: dict[str, str], currency: str) -> str:
    """What the chosen mapping leaves empty, in words."""
    missing, empty = unmapped(mapping)
    lines = []
    if missing:
        lines.append(f"**Required and not mapped: {', '.join(missing)}** — the build would fail; choose their columns.")
    if empty:
        lines.append(f"Left empty: {', '.join(empty)} (colour, audience, category and size are read from titles "
                     "where they can be, and marked inferred).")
    lines.append(f"Prices will be shown in {markdown_literal(currency or 'the currency the file names (else USD)')}.")
    return "\n\n".join(lines)


def build_admin(assistant: Assistant) -> None:
    """The Admin tab's components and handlers (inside a `gr.Tab`)."""
    import gradio as gr

    fields = list(CANONICAL_FIELDS)

    def no_preview(message: str) -> tuple:
        """The preview's outputs when there is nothing to preview: the message, no table, empty mapping."""
        return (message, "", *[gr.update(choices=[NONE], value=NONE) for _ in fields], gr.update(), gr.update())

    @staff_only(assistant, lambda: no_preview(REFUSED))
    def admin_preview(token: str, files):
        from assistant.ingest.preview import preview_catalog

        paths = upload_paths(files)
        if not paths:
            return no_preview("Upload a catalog file first.")
        try:
            found = preview_catalog(paths[0], assistant.settings.column_map, limits=assistant.settings.limits,
                                    encoding=assistant.settings.catalog_encoding)
        except Exception as err:
            return no_preview(markdown_literal(f"Cannot read {paths[0].name}: {err}"))
        columns = [NONE, *(c.name for c in found.columns)]
        dropdowns = [gr.update(choices=columns, value=found.mapping.get(f, NONE)) for f in fields]
        status = (f"{markdown_literal(paths[0].name)}: {found.sampled} rows sampled, {len(found.columns)} columns.\n\n"
                  + mapping_summary(found.mapping, found.currency or ""))
        name = index_name_for(paths[0], assistant.available_indexes())
        return status, preview_html(found), *dropdowns, gr.update(value=name), gr.update(value=found.currency or "")

    @staff_only(assistant, lambda: REFUSED)
    def admin_mapping(token: str, currency: str, *chosen: str) -> str:
        return mapping_summary({f: c for f, c in zip(fields, chosen) if c and c != NONE}, currency or "")

    @staff_only(assistant, lambda: (REFUSED, ""))
    def admin_rebuild(token: str, files, name: str, replace_live: bool, currency: str, *chosen: Any,
                      progress=gr.Progress()):
        paths = upload_paths(files)
        if not paths:
            return "Upload one or more catalog files first.", ""
        served = assistant.settings.index_name
        name = (name or "").strip() or served
        if name == served and not replace_live:
            return (markdown_literal(f"“{name}” is the index serving shoppers now. Choose a new name, or tick "
                                     "“Replace the live store” to rebuild it in place."), "")
        mapping = {f: c for f, c in zip(fields, chosen) if c and c != NONE}

        def report(done: int, total: int) -> None:
            progress((done, total) if total else (0, 1), desc="embedding changed products")
        try:
            summary = assistant.rebuild_index(paths, mapping=mapping, progress=report, name=name,
                                              currency=(currency or "").strip() or None)
        except Exception as err:
            return markdown_literal(f"Build failed: {err}. The index serving shoppers did not change."), ""
        finally:
            for path in paths:  # Gradio's copy of the upload: nothing of a catalog stays in its folder
                path.unlink(missing_ok=True)
        rows = "".join(f"<tr><td>{html.escape(r.file)}</td><td>{r.line}</td><td>{html.escape(r.reason)}</td></tr>"
                       for r in summary.report.rejections[:200])
        table = f"<table><tr><th>file</th><th>line</th><th>reason</th></tr>{rows}</table>" if rows else ""
        where = ("Published and serving." if name == served else
                 f"Published as index “{name}”; “{served}” keeps serving until you switch.")
        return markdown_literal(summary.format()) + "\n\n" + markdown_literal(where), table

    @staff_only(assistant, lambda: REFUSED)
    def admin_status(token: str) -> str:
        info = assistant.index_info()
        counts = info["counts"]
        return (f"**Index `{info['name']}`** — build `{info['build_id']}` ({info['built_at']}), "
                f"{info['product_count']} products, {info['embedder']['model_id']}, faiss {info['vector_index']['kind']}; "
                f"last build: {counts['loaded']} loaded, {counts['rejected']} rejected, {counts['re_embedded']} "
                f"re-embedded, {counts['reused']} reused." + store_profile_text(assistant.store_profile()))

    @staff_only(assistant, lambda: gr.update(choices=[]))
    def admin_indexes(token: str):
        return gr.update(choices=assistant.available_indexes(), value=assistant.settings.index_name)

    @staff_only(assistant, lambda: REFUSED)
    def admin_switch(token: str, name: str | None) -> str:
        try:
            assistant.switch_index(name or "")
        except Exception as err:
            return markdown_literal(f"Cannot switch: {err}")
        return markdown_literal(f"Now serving index {name} (switch back the same way).")

    @staff_only(assistant, lambda: REFUSED)
    def admin_rollback(token: str) -> str:
        try:
            build = assistant.rollback_index()
        except Exception as err:
            return markdown_literal(f"Cannot roll back: {err}")
        return f"Now serving the previous build `{build}`."

    @staff_only(assistant, lambda: REFUSED)
    def admin_forget(token: str, customer: str) -> str:
        if not (customer or "").strip():
            return "Enter the customer's id as it appears in the store's logs."
        removed = assistant.forget_customer(customer.strip())
        return (f"Forgotten: {removed['feedback']} feedback rows, {removed['turn']} turn logs and "
                f"{removed['traces']} in-memory traces deleted; their events are left out of every later CF fit.")

    admin_token = gr.Textbox(label="Staff token", type="password", elem_id="aisle-admin-token")
    uploads = gr.File(label="Catalog files (CSV / TSV / JSONL / Parquet, .gz too)", file_count="multiple",
                      elem_id="aisle-admin-files")
    preview_button = gr.Button("1. Preview the file", elem_id="aisle-admin-preview")
    preview_status = gr.Markdown(elem_id="aisle-admin-preview-status")
    preview_table = gr.HTML(elem_id="aisle-admin-preview-table")
    gr.Markdown("2. Map the file's columns to the store's fields (pre-filled from the column names):")
    with gr.Row():
        currency = gr.Textbox(label="Currency (e.g. INR, EUR, ¥)", elem_id="aisle-admin-currency")
    pickers = []
    for start in range(0, len(fields), 5):
        with gr.Row():
            for field in fields[start:start + 5]:
                pickers.append(gr.Dropdown([NONE], value=NONE, label=field + (" *" if field in REQUIRED_FIELDS else ""),
                                           elem_id=f"aisle-map-{field}"))
    gr.Markdown("3. Build it:")
    with gr.Row():
        index_name = gr.Textbox(label="New index name", elem_id="aisle-admin-name", scale=2)
        replace_live = gr.Checkbox(label="Replace the live store instead", elem_id="aisle-admin-replace", scale=1)
        rebuild_button = gr.Button("Build index", variant="primary", elem_id="aisle-admin-build", scale=1)
    rebuild_status = gr.Markdown(elem_id="aisle-admin-status")
    rebuild_report = gr.HTML()
    with gr.Row():
        index_choice = gr.Dropdown([], label="Published indexes", allow_custom_value=True, elem_id="aisle-admin-indexes")
        list_button = gr.Button("List indexes", elem_id="aisle-admin-list")
        switch_button = gr.Button("Serve this index", elem_id="aisle-admin-switch")
    with gr.Row():
        stats_button = gr.Button("Index statistics")
        rollback_button = gr.Button("Roll back to the previous build")
    with gr.Row():
        forget_box = gr.Textbox(label="Forget a customer (id as in the store's logs)", scale=3,
                                elem_id="aisle-forget-customer")
        forget_button = gr.Button("Forget", scale=1, variant="stop", elem_id="aisle-forget")
    forget_status = gr.Markdown(elem_id="aisle-forget-status")
    preview_button.click(admin_preview, [admin_token, uploads],
                         [preview_status, preview_table, *pickers, index_name, currency])
    for picker in pickers:
        picker.input(admin_mapping, [admin_token, currency, *pickers], preview_status)
    rebuild_button.click(admin_rebuild, [admin_token, uploads, index_name, replace_live, currency, *pickers],
                         [rebuild_status, rebuild_report], show_progress_on=[rebuild_status])
    forget_button.click(admin_forget, [admin_token, forget_box], forget_status)
    list_button.click(admin_indexes, [admin_token], index_choice)
    switch_button.click(admin_switch, [admin_token, index_choice], rebuild_status)
    stats_button.click(admin_status, [admin_token], rebuild_status)
    rollback_button.click(admin_rollback, [admin_token], rebuild_status)
