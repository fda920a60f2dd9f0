"""What the server refuses, and that it keeps answering afterwards; a clean, quick exit on SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time

import pytest
from harness import ROOT, ServerProcess, expect

from jangrad.playground import limits

UNSAFE = [
    "__import__('os').system('echo hacked')",
    "a.__class__.__mro__",
    "open('/etc/passwd')",
    "(lambda: 1)()",
    "[x for x in (1, 2)]",
    "'text' * 3",
    "a if a else a",
    "import os",
]


def request(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, payload


def post_json(server, path: str, payload: dict, **headers):
    return request(server, "POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers})


def test_foreign_host_and_origin_get_403(server):
    status, body = request(server, "GET", "/", headers={"Host": "evil.example"})
    assert status == 403 and b"<html" not in body
    status, _ = post_json(server, "/api/expr", {"source": "a", "inputs": "a=1"}, Host=f"evil.example:{server.port}")
    assert status == 403
    status, _ = post_json(server, "/api/expr", {"source": "a", "inputs": "a=1"}, Origin="http://evil.example")
    assert status == 403
    assert request(server, "GET", "/", headers={"Host": f"localhost:{server.port}"})[0] == 200
    assert request(server, "GET", "/")[0] == 200


def test_only_small_json_posts_and_only_package_files(server):
    status, _ = request(server, "POST", "/api/expr", b"source=a", {"Content-Type": "text/plain"})
    assert status == 415
    # a body announced as 2 MB is refused from its headers, before a byte of it is read
    status, _ = request(
        server, "POST", "/api/expr", b"{}", {"Content-Type": "application/json", "Content-Length": "2000000"}
    )
    assert status == 413
    status, body = request(server, "POST", "/api/expr", b"{not json", {"Content-Type": "application/json"})
    assert status == 400 and b"not valid JSON" in body
    for path in ("/static/../server.py", "/static/%2e%2e/server.py", "/static/nothing.js", "/etc/passwd"):
        assert request(server, "GET", path)[0] == 404, path
    status, _ = post_json(server, "/api/expr", {"source": "a*b", "inputs": "a=2, b=3"})
    assert status == 200


@pytest.mark.parametrize("source", UNSAFE)
def test_unsafe_expressions_are_refused_in_one_line(server, source):
    status, body = post_json(server, "/api/expr", {"source": source, "inputs": "a=1"})
    message = json.loads(body)["error"]
    assert status == 400 and message and "\n" not in message and "Traceback" not in message


def test_page_shows_one_line_errors_with_status_400_and_keeps_working(page):
    huge_input = "a + " * 25_000 + "a"  # 100 kB
    long_sum = " + ".join(["a"] * 100_000)  # a sum of 10^5 terms
    for source in [UNSAFE[0], UNSAFE[1], huge_input, long_sum]:
        page.fill("#expr-source", source)
        page.fill("#expr-inputs", "a=1")
        with page.expect_response("**/api/expr") as response:
            page.click("#expr-run")
        assert response.value.status == 400
        page.wait_for_selector("body[data-expr='error']")
        message = page.inner_text("#expr-error")
        assert message and "\n" not in message and "Traceback" not in message
    page.select_option("#expr-preset", "reused")
    expect(page.locator("#expr-output")).to_have_text("y = -4.0")
    assert page.inner_text("#expr-error") == ""


def test_event_streams_are_capped_and_a_closed_tab_frees_its_place():
    own = ServerProcess()
    try:

        def open_stream():
            stream = socket.create_connection(("127.0.0.1", own.port))
            stream.sendall(f"GET /api/train/events HTTP/1.1\r\nHost: 127.0.0.1:{own.port}\r\n\r\n".encode())
            return stream, stream.recv(300).split(b"\r\n")[0]

        held = [open_stream() for _ in range(limits.MAX_EVENT_STREAMS)]
        assert all(status == b"HTTP/1.1 200 OK" for _, status in held)
        refused, status = open_stream()
        assert status == b"HTTP/1.1 429 Too Many Requests"
        refused.close()
        for stream, _ in held:
            stream.close()
        time.sleep(1.5)
        again, status = open_stream()
        assert status == b"HTTP/1.1 200 OK"
        again.close()
    finally:
        own.stop()


def test_sigterm_stops_within_a_second_and_a_taken_port_exits_2(server):
    own = ServerProcess()
    stream = socket.create_connection(("127.0.0.1", own.port))  # an open event stream must not hold it up
    stream.sendall(f"GET /api/train/events HTTP/1.1\r\nHost: 127.0.0.1:{own.port}\r\n\r\n".encode())
    assert stream.recv(100).startswith(b"HTTP/1.")
    elapsed = own.stop()
    stream.close()
    assert own.process.returncode == 0
    assert elapsed < 1.0, f"took {elapsed:.2f} s to stop"

    taken = subprocess.run(
        [sys.executable, "-m", "jangrad", "serve", "--port", str(server.port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert taken.returncode == 2
    assert taken.stderr.count("\n") == 1 and f"port {server.port} is already in use" in taken.stderr


def raw_exchange(port: int, data: bytes, seconds: float = 10.0) -> tuple[bytes, float]:
    """Send ``data`` on a new connection and read the answer until the server closes it; the answer and the time."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer, time.monotonic() - started


def test_a_static_name_longer_than_the_system_allows_is_404(server):
    status, body = request(server, "GET", "/static/" + "a" * 300 + ".js")
    assert status == 404 and b"no such file" in body
    assert request(server, "GET", "/")[0] == 200


def test_a_body_shorter_than_its_content_length_is_400_within_a_few_seconds(server):
    head = (
        f"POST /api/expr HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: 100\r\n\r\n"
    ).encode()
    answer, seconds = raw_exchange(server.port, head + b'{"source": "a"')  # then nothing more, connection open
    assert answer.startswith(b"HTTP/1.1 400 ") and b"shorter than its Content-Length (100 bytes)" in answer
    assert seconds < limits.BODY_SECONDS + 2.0
    assert request(server, "GET", "/")[0] == 200


def test_connections_are_capped_and_the_server_answers_again_once_they_close():
    own = ServerProcess()
    try:
        idle = [socket.create_connection(("127.0.0.1", own.port)) for _ in range(limits.MAX_CONNECTIONS)]
        time.sleep(0.5)
        answer, _ = raw_exchange(own.port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{own.port}\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 503 ") and b"too many connections" in answer
        threads = len(os.listdir(f"/proc/{own.process.pid}/task")) if os.path.isdir("/proc") else None
        assert threads is None or threads <= limits.MAX_CONNECTIONS + 4  # main, server loop, and a few spare
        for connection in idle:
            connection.close()
        time.sleep(1.0)
        assert request(own, "GET", "/")[0] == 200
    finally:
        own.stop()


def test_the_largest_allowed_run_keeps_health_under_a_second_and_stops_within_two():
    """2000 samples, 6 hidden layers of 32 (in batches of the most the step bound allows): the page, the health
    check and a reset keep answering while it trains, and SIGTERM ends it quickly."""
    own = ServerProcess()
    try:
        config = {
            "data": "moons",
            "samples": limits.MAX_SAMPLES,
            "steps": limits.MAX_TRAIN_STEPS,
            "layers": ",".join([str(limits.MAX_WIDTH)] * limits.MAX_LAYERS),
        }
        status, body = post_json(own, "/api/train/start", {"config": config})
        assert status == 400 and b"set a batch size of at most" in body
        largest = limits.MAX_STEP_WORK // 5409  # the network's parameters
        status, body = post_json(own, "/api/train/start", {"config": {**config, "batch": largest}})
        assert status == 200, body
        slowest = 0.0
        deadline = time.monotonic() + 6.0  # the first tape is built, then steps run
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert request(own, "GET", "/api/health")[0] == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.1)
        assert slowest < 1.0, f"/api/health took {slowest:.2f} s"
        status, body = post_json(own, "/api/train/control", {"action": "reset"})
        assert status == 200, body
        status, body = post_json(own, "/api/train/start", {"config": {**config, "batch": largest}})
        assert status == 200, body
        time.sleep(1.0)
    finally:
        elapsed = own.stop()
    assert own.process.returncode == 0
    assert elapsed < 2.0, f"took {elapsed:.2f} s to stop"


@pytest.mark.parametrize(
    "path, body, words",
    [
        ("/api/train/edit", {"action": "drop"}, b"action must be add or remove"),
        ("/api/train/edit", {"action": "add", "x": "1", "y": 0, "class": 0}, b"x must be a finite number"),
        ("/api/train/edit", {"action": "add", "x": 1e300, "y": 0, "class": 0}, b"at most 1e6"),
        ("/api/train/edit", {"action": "add", "x": 0, "y": 0, "class": 99}, b"class must be"),
        ("/api/train/edit", {"action": "remove", "index": -1}, b"index must be a whole number"),
        ("/api/train/select", {"sample": "0"}, b"sample must be a whole number"),
        ("/api/train/select", {"parameter": 10**9}, b"parameter must be a whole number"),
        ("/api/train/select", {}, b"select needs a sample or a parameter"),
        ("/api/train/control", {"action": "pace", "pace": float("1e30")}, b"pace must be from 0.1 to 10000"),
        ("/api/train/command", {"config": {"lr": "fast"}}, b"lr must be a number"),
    ],
)
def test_the_labs_requests_refuse_bad_values_in_one_line(server, path, body, words):
    status, answer = post_json(server, "/api/train/start", {"config": {"data": "xor", "layers": "2"}, "paused": True})
    assert status == 200, answer
    status, answer = post_json(server, path, body)
    assert status == 400 and words in answer, answer
    assert b"\n" not in json.loads(answer)["error"].encode() and b"Traceback" not in answer


def test_a_csv_files_column_names_are_shown_as_text_never_as_html(page, tmp_path):
    path = tmp_path / "names.csv"
    rows = ['<img src=x onerror="window.hacked=1">,<b>bold</b>,label'] + [
        f"{i % 5},{(i * 3) % 7},{i % 2}" for i in range(20)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.click("#tab-network")
    page.select_option("#net-data", "csv")
    page.fill("#net-target", "label")
    page.locator("#net-target").blur()
    page.set_input_files("#net-csv", str(path))
    page.wait_for_function("() => window.jangradLab.summary && window.jangradLab.summary.config.data === 'csv'")
    labels = page.eval_on_selector_all("#net-diagram .diagram-label", "ls => ls.map(l => l.textContent)")
    assert labels[:2] == ['<img src=x onerror="window.hacked=1">', "<b>bold</b>"]
    assert (
        page.locator("#panel-network img, #panel-network b:not(#loss-training-value):not(#loss-test-value)").count()
        == 0
    )
    assert page.evaluate("() => window.hacked === undefined")
