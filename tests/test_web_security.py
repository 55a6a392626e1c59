"""The web app as an outside attacker reaches it: a real `aisle serve` process, over HTTP, no token.

Each test names the hole it keeps closed (docs/security.md lists them with these tests).
"""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from server_process import STAFF_TOKEN, ServerProcess

AUTO = "let Aisle infer"


def file_item(path: str) -> dict:
    return {"path": path, "orig_name": "x.txt", "meta": {"_type": "gradio.FileData"}}


def history_with_file(path: str) -> list:
    """The exact shape of the reported exploit: a chat history message carrying a Gradio file item."""
    return [{"role": "user", "content": [{"type": "file", "file": file_item(path)}]}]


@pytest.fixture(scope="module")
def targets(live_server: ServerProcess) -> dict[str, tuple[str, bytes]]:
    """Server files an attacker wants: (the path as sent, a piece of its content that must never come back)."""
    key = live_server.state_dir / "data.key"
    assert key.is_file(), "the server writes its data key at start"
    index_link = live_server.index_dir / "innocent.csv"
    index_link.unlink(missing_ok=True)
    index_link.symlink_to(key)
    live_server.upload_dir.mkdir(parents=True, exist_ok=True)
    upload_link = live_server.upload_dir / "looks-uploaded.txt"
    upload_link.unlink(missing_ok=True)
    upload_link.symlink_to(key)
    secret = key.read_bytes().strip()[:24]
    return {"data key": (str(key), secret),
            "server environment (holds the staff token)": (f"/proc/{live_server.process.pid}/environ",
                                                            STAFF_TOKEN.encode()),
            "/etc/passwd": ("/etc/passwd", b"root:"),
            "a symlink in the index folder": (str(index_link), secret),
            "a symlink planted in the upload folder": (str(upload_link), secret),
            "a relative path": ("state/data.key", secret),
            "a relative path climbing out": ("uploads/../state/data.key", secret)}


def no_copy_in_uploads(server: ServerProcess, secret: bytes) -> bool:
    for path in server.upload_dir.rglob("*"):
        if path.is_file() and not path.is_symlink() and secret in path.read_bytes():
            return False
    return True


CASES = ["data key", "server environment (holds the staff token)", "/etc/passwd", "a symlink in the index folder",
         "a symlink planted in the upload folder", "a relative path", "a relative path climbing out"]


@pytest.mark.parametrize("case", CASES)
def test_a_gradio_event_naming_a_server_file_is_refused_and_nothing_of_it_comes_back(
        live_server: ServerProcess, targets: dict, case: str) -> None:
    path, secret = targets[case]
    for data in ([history_with_file(path), {}, AUTO],  # the reported payload, in any input
                 [file_item(path), {}, AUTO]):
        status, text = live_server.gradio_event("send", data)
        assert status == 400 and "file items are accepted only" in text
        assert secret.decode(errors="replace") not in text
    for api_name, data in (("admin_rebuild", build_inputs([file_item(path)])),  # the upload component too
                           ("admin_preview", [STAFF_TOKEN, [file_item(path)]]),
                           ("admin_status", [file_item(path)])):
        status, text = live_server.gradio_event(api_name, data)
        assert status == 400 and secret.decode(errors="replace") not in text
    assert no_copy_in_uploads(live_server, secret)


@pytest.mark.parametrize("case", CASES)
def test_gradio_serves_no_server_file_by_url(live_server: ServerProcess, targets: dict, case: str) -> None:
    path, secret = targets[case]
    for url in (f"/gradio_api/file={path}", f"/gradio_api/file={quote(path)}",
                f"/gradio_api/file={quote(os.path.abspath(live_server.folder / path))}"):
        answer = live_server.request("GET", url)
        assert answer.status == 403 and secret not in answer.body, url


def test_gradio_fetches_no_url_for_a_client(live_server: ServerProcess) -> None:
    for url in (f"/gradio_api/file={live_server.base}/api/health", "/gradio_api/file=http://169.254.169.254/",
                f"/gradio_api/proxy={live_server.base}/api/health", "/gradio_api/file=file:///etc/passwd"):
        answer = live_server.request("GET", url)
        assert answer.status == 403 and b"root:" not in answer.body and b"products" not in answer.body, url
    assert live_server.network_attempts() == []


def test_what_gradio_received_is_served_back_and_a_clean_chat_answers(live_server: ServerProcess) -> None:
    """The refusals above are not the whole route being broken: an upload comes back, a chat answers."""
    boundary = "aisleboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"mine.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\nid,title,price\r\n--{boundary}--\r\n").encode()
    answer = live_server.request("POST", "/gradio_api/upload", raw=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status == 200, answer.body
    stored = answer.json()[0]
    assert Path(stored).resolve().is_relative_to(live_server.upload_dir.resolve())
    served = live_server.request("GET", f"/gradio_api/file={stored}")
    assert served.status == 200 and b"id,title,price" in served.body
    status, text = live_server.gradio_event("send", ["rain jacket for a 6 year old", {}, AUTO])
    assert status == 200 and '"success": true' in text.replace('"success":true', '"success": true')
    assert "aisle-card" in text


def test_gradio_keeps_no_run_history(live_server: ServerProcess) -> None:
    """Gradio's run history would keep every event's inputs (a staff token among them) for the browser."""
    config = live_server.request("GET", "/config").json()
    assert config.get("run_history") is False and "runs" not in config.get("footer_links", [])


def test_the_server_never_reaches_the_network(live_server: ServerProcess) -> None:
    """Started, and serving chats, with networking blocked but for loopback: no version check, no analytics."""
    live_server.request("POST", "/api/recommend", body={"message": "wool socks"})
    live_server.request("GET", "/")
    assert live_server.network_attempts() == []
    assert live_server.environ().get("GRADIO_ANALYTICS_ENABLED") is None  # the package turns it off itself


# ---------------------------------------------------------------- bodies: capped as they stream


def raw_request(server: ServerProcess, path: str, headers: dict[str, str], chunks, chunked: bool = False,
                timeout: float = 30.0) -> tuple[int, bytes, float]:
    """Send a body piece by piece (optionally chunked); stop sending as soon as the server answers.
    Returns (status, body, seconds until the answer)."""
    host, port = server.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    connection.putrequest("POST", path)
    for name, value in headers.items():
        connection.putheader(name, value)
    if chunked:
        connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    started = time.perf_counter()
    try:
        for chunk in chunks:
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if _answered(connection):
                break
        else:
            if chunked:
                connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed: read what it said
    response = connection.getresponse()
    seconds = time.perf_counter() - started
    body = response.read()
    connection.close()
    return response.status, body, seconds


def _answered(connection: http.client.HTTPConnection) -> bool:
    import select
    readable, _, _ = select.select([connection.sock], [], [], 0)
    return bool(readable)


def megabytes(count: int, piece: bytes = b"x" * 65536):
    for _ in range(count * 16):
        yield piece


def test_json_bodies_over_the_cap_get_413_with_or_without_a_length(live_server: ServerProcess) -> None:
    big = json.dumps({"message": "x" * 200_000}).encode()
    answer = live_server.request("POST", "/api/recommend", raw=big, headers={"Content-Type": "application/json"})
    assert answer.status == 413
    status, body, _ = raw_request(live_server, "/api/recommend", {"Content-Type": "application/json"},
                                  (big[i:i + 8192] for i in range(0, len(big), 8192)), chunked=True)
    assert status == 413 and b"over" in body
    status, _, _ = raw_request(live_server, "/gradio_api/queue/join", {"Content-Type": "application/json"},
                               megabytes(3), chunked=True)
    assert status == 413
    assert live_server.request("GET", "/api/health").status == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_anonymous_300_mib_upload_is_refused_at_once_holding_no_file(live_server: ServerProcess,
                                                                        chunked: bool) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    if not chunked:
        headers["Content-Length"] = str(300 * 1024 * 1024)
    before = set(os.listdir(live_server.upload_dir)) if live_server.upload_dir.exists() else set()
    status, body, seconds = raw_request(live_server, "/api/index/rebuild", headers, megabytes(300), chunked)
    assert status in (401, 403) and b"staff token" in body
    assert seconds < 2.0, f"refused after {seconds:.2f} s: the body was read first"
    open_files = [os.readlink(f"/proc/{live_server.process.pid}/fd/{fd}")
                  for fd in os.listdir(f"/proc/{live_server.process.pid}/fd")]
    assert not any("tmp" in name and "(deleted)" in name for name in open_files)
    after = set(os.listdir(live_server.upload_dir)) if live_server.upload_dir.exists() else set()
    assert after <= before | {"looks-uploaded.txt"}


@pytest.mark.parametrize("path", ["/api/index/rebuild", "/gradio_api/upload"])
def test_an_upload_over_the_cap_gets_413_and_leaves_no_temporary_file(live_server: ServerProcess,
                                                                      path: str) -> None:
    cap = int(live_server.environ()["AISLE_MAX_UPLOAD_BYTES"])
    head = b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.csv"\r\n\r\nid,title,price\n'
    headers = {"Content-Type": "multipart/form-data; boundary=b", **live_server.staff()}
    status, body, _ = raw_request(live_server, path, headers, [head, *megabytes(cap // 2**20 + 4)], chunked=True)
    assert status == 413, body
    time.sleep(0.5)
    leftovers = [p for p in live_server.upload_dir.rglob("*") if p.is_file() and p.stat().st_size > 1024 * 1024]
    assert leftovers == []
    assert live_server.request("GET", "/api/health").json()["status"] in ("ok", "degraded")


# ---------------------------------------------------------------- shoppers cannot forge or pry


def test_feedback_only_for_a_product_shown_in_that_turn_of_that_conversation(live_server: ServerProcess) -> None:
    first = live_server.request("POST", "/api/recommend", body={"message": "rain jacket", "reasons": False}).json()
    other = live_server.request("POST", "/api/recommend", body={"message": "wool socks", "reasons": False}).json()
    shown = first["items"][0]["product"]["id"]
    not_shown = next(i["product"]["id"] for i in other["items"]
                     if i["product"]["id"] not in {x["product"]["id"] for x in first["items"]})
    good = {"conversation_id": first["conversation_id"], "turn_id": first["turn_id"], "product_id": shown,
            "kind": "bought"}
    forged = [{**good, "product_id": not_shown},  # a real product that this turn did not show
              {**good, "conversation_id": other["conversation_id"]},  # someone else's conversation
              {**good, "turn_id": "0123456789ab"},  # a made-up turn
              {**good, "customer": "some-real-customer"}]  # naming a customer: ignored, never trusted
    for body in forged[:3]:
        answer = live_server.request("POST", "/api/feedback", body=body)
        assert answer.status == 422, (body, answer.body)
    assert live_server.request("POST", "/api/feedback", body=forged[3]).status == 200
    assert live_server.request("POST", "/api/feedback", body=good).status == 200


def test_an_anonymous_caller_naming_a_customer_learns_nothing_of_them(live_server: ServerProcess) -> None:
    from assistant.ingest.customers import read_customers
    from assistant.demo import customers_path

    profiles, _ = read_customers([customers_path()], lambda c: c)
    customer = next(iter(profiles))
    answer = live_server.request("POST", "/api/recommend", body={"message": "something nice", "customer": customer})
    assert answer.status == 401 and b"X-Storefront-Token" in answer.body
    assert profiles[customer].segment.encode() not in answer.body
    forged = live_server.request("POST", "/api/recommend", body={"message": "x", "customer": customer},
                                 headers={"X-Storefront-Token": STAFF_TOKEN})
    assert forged.status == 401  # the staff token is not the storefront's


# ---------------------------------------------------------------- nothing secret in odd tokens or admin text


def test_a_lone_surrogate_token_is_a_clean_refusal(live_server: ServerProcess) -> None:
    status, text = live_server.gradio_event("admin_status", ["\ud800"])
    assert status == 200 and "A valid staff token is required" in text
    status, text = live_server.gradio_event("staff_turns", ["tok\udfff", ""])
    assert status == 200 and "process_completed" in text and '"success": false' not in text.replace(": ", ":")


def test_admin_error_text_renders_no_markup_from_a_file_header(live_server: ServerProcess) -> None:
    boundary = "aisleboundary"
    header = '![pwn](http://127.0.0.1:9/x.png),<img src=x onerror=alert(1)>,[link](javascript:alert(1))'
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"evil.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n{header}\r\n1,2,3\r\n--{boundary}--\r\n").encode()
    uploaded = live_server.request("POST", "/gradio_api/upload", raw=body,
                                   headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}).json()[0]
    status, text = live_server.gradio_event("admin_preview", [STAFF_TOKEN, [file_item(uploaded)]])
    assert status == 200 and "rows sampled" in text
    completed = next(json.loads(line[5:]) for line in text.splitlines() if "process_completed" in line)
    shown, table = completed["output"]["data"][:2]  # the status (Markdown) and the preview table (HTML)
    assert "<img" not in shown + table and "&lt;img" in table  # the header is shown, as text
    assert "![pwn](" not in shown and "](javascript" not in shown  # (the mapping dropdowns hold it as plain text)
    status, text = live_server.gradio_event("admin_rebuild", build_inputs([file_item(uploaded)]))
    assert status == 200 and "Build failed" in text
    assert "<img" not in text and "![pwn](" not in text and "](javascript" not in text
    assert "&lt;img" in text  # shown, as text
    assert not Path(uploaded).exists()  # Gradio's copy of the upload is removed after the rebuild


def build_inputs(files: list) -> list:
    """The Admin tab's build event inputs: token, files, a new index name, replace-live, currency, the mapping."""
    from assistant.ingest.catalog import CANONICAL_FIELDS
    return [STAFF_TOKEN, files, "security-probe", False, "", *["(none)"] * len(CANONICAL_FIELDS)]


def multipart(files: list[tuple[bytes, bytes]], boundary: bytes = b"aisleboundary") -> tuple[bytes, dict]:
    parts = b"".join(b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="' + name +
                     b'"\r\nContent-Type: text/csv\r\n\r\n' + content + b"\r\n" for name, content in files)
    return parts + b"--" + boundary + b"--\r\n", {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()}


@pytest.mark.parametrize("names", [[b".."], [b"."], [b"a" * 300 + b".csv"], [b"shop\x00.csv"], [b"../../x.csv"],
                                   [b"same.csv", b"same.csv"]],
                         ids=["dot-dot", "dot", "300 characters", "NUL", "a path", "two of one name"])
def test_odd_upload_names_get_a_clear_4xx_and_the_index_keeps_serving(live_server: ServerProcess,
                                                                       names: list[bytes]) -> None:
    before = live_server.request("GET", "/api/health").json()
    body, headers = multipart([(name, b"id,title,price\nA1,Rain jacket,20\n") for name in names])
    answer = live_server.request("POST", "/api/index/rebuild", raw=body, headers={**headers, **live_server.staff()})
    assert 400 <= answer.status < 500 and answer.json()["detail"], answer.body
    after = live_server.request("GET", "/api/health").json()
    assert after["build"] == before["build"] and after["products"] == before["products"]


def card_component_id(server: ServerProcess) -> int:
    """The id of the product-cards HTML component, whose `card_feedback` server function the buttons call."""
    config = server.request("GET", "/config").json()
    return next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "aisle-cards")


def test_card_button_feedback_is_refused_unless_that_turn_showed_that_product(live_server: ServerProcess) -> None:
    first = live_server.request("POST", "/api/recommend", body={"message": "rain jacket", "reasons": False}).json()
    other = live_server.request("POST", "/api/recommend", body={"message": "wool socks", "reasons": False}).json()
    shown = first["items"][0]["product"]["id"]
    not_shown = next(i["product"]["id"] for i in other["items"]
                     if i["product"]["id"] not in {x["product"]["id"] for x in first["items"]})
    component = card_component_id(live_server)

    def press(kind: str, product: str, turn: str, conversation: str) -> str:
        body = {"session_hash": "forger", "component_id": component, "fn_name": "card_feedback",
                "data": json.dumps([kind, product, turn, conversation])}
        answer = live_server.request("POST", "/gradio_api/component_server", body=body)
        assert answer.status == 200, answer.body
        return answer.json()

    for forged in (["up", not_shown, first["turn_id"], first["conversation_id"]],  # not shown in this turn
                   ["up", shown, first["turn_id"], other["conversation_id"]],  # someone else's conversation
                   ["bought", shown, "0123456789ab", first["conversation_id"]],  # a made-up turn
                   ["boughtx", shown, first["turn_id"], first["conversation_id"]]):  # no such kind
        assert press(*forged).startswith("Could not record that"), forged
    assert not press("up", shown, first["turn_id"], first["conversation_id"]).startswith("Could not")
