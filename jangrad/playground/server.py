"""The playground's HTTP server: routing, the security checks, static files and the live-training event stream.

Built on the standard library's ``ThreadingHTTPServer``; one thread per connection. What it guarantees:

* it listens on 127.0.0.1 only, and answers 403 to any request whose Host header is not its own address (a
  foreign Host is how a DNS-rebinding page would reach it) or whose Origin is another site;
* it accepts only JSON bodies (415 otherwise), of at most ``limits.MAX_BODY_BYTES`` (413 otherwise), that arrive
  whole within ``limits.BODY_SECONDS`` (400 otherwise);
* it serves at most ``limits.MAX_CONNECTIONS`` connections at once (one thread each); a connection beyond them gets
  503 and is closed at once, and an idle one is closed after ``limits.IDLE_SECONDS``;
* a request the lab refuses gets status 400 and ``{"error": "<one line>"}``; no traceback ever reaches the page;
* ``stop()`` ends it, its event streams and any training run within a second.
"""

from __future__ import annotations

import json
import re
import select
import socket
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from . import api, expression, limits
from .training import TrainingManager

__all__ = ["PlaygroundServer", "make_server"]

# A name longer than any of the package's files is no file (the system would refuse it with ENAMETOOLONG).
_STATIC_NAME = re.compile(r"^[a-z0-9_-]{1,64}\.(html|js|css|svg|png)$")
_BUSY_BODY = b'{"error": "too many connections; try again in a moment"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)
_CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Nothing may load from or talk to anywhere but this server.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}


class RequestError(Exception):
    """A refused request: the status to answer with and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class PlaygroundServer(ThreadingHTTPServer):
    """The server object: its address, the Host values it accepts, the training manager and the stop switch."""

    daemon_threads = True  # a hung browser connection must never keep the process alive after a stop

    def __init__(self, port: int, quiet: bool = True) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.port: int = self.server_address[1]
        self.allowed_hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.allowed_origins = {f"http://{host}" for host in self.allowed_hosts}
        self.quiet = quiet
        self.stopping = threading.Event()
        self.trainer = TrainingManager(self.stopping)
        self._streams = threading.BoundedSemaphore(limits.MAX_EVENT_STREAMS)
        self._connections = threading.BoundedSemaphore(limits.MAX_CONNECTIONS)

    # A TCP server's request is its connection's socket (the (data, socket) pair is a UDP server's).
    def process_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        """Start the connection's thread, or answer 503 and close it when MAX_CONNECTIONS are open."""
        if not self._connections.acquire(blocking=False):
            connection = request if isinstance(request, socket.socket) else request[1]
            try:
                connection.settimeout(0.2)  # the answer fits in the socket's buffer; a client that reads nothing waits
                connection.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._connections.release()
            raise

    def process_request_thread(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.release()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        """Stop training, close event streams and stop serving; safe to call from any thread but the serving one."""
        self.stopping.set()
        self.trainer.stop()
        self.shutdown()
        self.server_close()


def make_server(port: int = 8765, quiet: bool = True) -> PlaygroundServer:
    """Bind the playground to 127.0.0.1:``port`` (0 picks a free port). Raises OSError if the port is taken."""
    return PlaygroundServer(port, quiet=quiet)


class Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    server_version = "jangrad-playground"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = limits.IDLE_SECONDS  # a connection that sends nothing (or reads nothing) is dropped, not kept

    # ---- plumbing -------------------------------------------------------------------------------------------------
    def log_message(self, format: str, *args: object) -> None:
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _start(self, status: int, content_type: str, extra: dict) -> None:
        """The status line and the headers every answer carries (the caller ends the headers)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        for key, value in {**_SECURITY_HEADERS, **extra}.items():
            self.send_header(key, value)

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self._start(status, content_type, {"Content-Length": str(len(body)), **(extra or {})})
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: object) -> None:
        self._send(status, json.dumps(payload, allow_nan=False).encode("utf-8"), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _check_host(self) -> None:
        if self.headers.get("Host", "") not in self.server.allowed_hosts:
            raise RequestError(HTTPStatus.FORBIDDEN, "this server only answers requests addressed to itself")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.allowed_origins:
            raise RequestError(HTTPStatus.FORBIDDEN, "requests from other sites are refused")

    def _read_json(self) -> dict:
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "only application/json requests are accepted")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required") from None
        if length < 0 or length > limits.MAX_BODY_BYTES:
            self.close_connection = True  # the unread body must not be taken for the next request
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the request is {length} bytes; the limit is {limits.MAX_BODY_BYTES}",
            )
        body = self._read_body(length)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: "[[[[..." nested deep
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request body must be a JSON object")
        return payload

    def _read_body(self, length: int) -> bytes:
        """The body's ``length`` bytes; 400 if they do not all arrive within BODY_SECONDS (the sender stopped short)."""
        self.connection.settimeout(limits.BODY_SECONDS)
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            body = b""
        finally:
            self.connection.settimeout(self.timeout)
        if len(body) < length:
            self.close_connection = True  # what is left of the body must not be read as the next request
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"the request body is shorter than its Content-Length ({length} bytes)"
            )
        return body

    def _dispatch(self, routes: dict[str, Callable]) -> None:
        try:
            self._check_host()
            path = urlsplit(self.path).path
            route = routes.get(path)
            if route is None and path.startswith("/static/"):
                route = self._static
            if route is None:
                raise RequestError(HTTPStatus.NOT_FOUND, f"no such page: {path[:80]}")
            route()
        except RequestError as error:
            self._error(error.status, str(error))
        except (expression.LabError, ValueError, TypeError, ImportError) as error:
            # ImportError: a feature whose optional package is missing names the extra that installs it
            self._error(HTTPStatus.BAD_REQUEST, " ".join(str(error).split())[:300])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # a bug: say so in one line, keep serving
            sys.stderr.write(f"jangrad serve: internal error on {self.path[:80]}: {error!r}\n")
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(error).__name__}")

    # ---- routes ---------------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch(
            {
                "/": self._index,
                "/favicon.ico": lambda: self._serve_file("favicon.svg"),
                "/api/health": self._health,
                "/api/train/events": self._events,
                "/api/train/model.json": self._model_json,
                "/api/train/history.csv": self._history_csv,
            }
        )

    def do_HEAD(self) -> None:
        self._dispatch({"/": self._index})

    def do_POST(self) -> None:
        trainer = self.server.trainer
        self._dispatch(
            {
                "/api/expr": lambda: self._json(200, api.expression(self._read_json())),
                "/api/expr/check": lambda: self._json(200, api.expression_check(self._read_json())),
                "/api/train/command": lambda: self._json(200, api.command(self._read_json())),
                "/api/train/start": lambda: self._json(200, trainer.call("start", self._read_json())),
                "/api/train/control": lambda: self._json(200, trainer.call("control", self._read_json())),
                "/api/train/edit": lambda: self._json(200, trainer.call("edit", self._read_json())),
                "/api/train/select": lambda: self._json(200, trainer.call("select", self._read_json())),
                "/api/train/steps": lambda: self._json(200, trainer.call("sample_steps", self._read_json())),
            }
        )

    def _index(self) -> None:
        self._serve_file("index.html")

    def _static(self) -> None:
        self._serve_file(urlsplit(self.path).path[len("/static/") :])

    def _serve_file(self, name: str) -> None:
        if not _STATIC_NAME.match(name):
            raise RequestError(HTTPStatus.NOT_FOUND, "no such file")
        resource = resources.files("jangrad.playground").joinpath("static", name)
        try:
            found = resource.is_file()
        except OSError:  # any trouble looking for it (the name, the file system) means there is no such file to serve
            found = False
        if not found:
            raise RequestError(HTTPStatus.NOT_FOUND, "no such file")
        self._send(200, resource.read_bytes(), _CONTENT_TYPES[name.rsplit(".", 1)[1]])

    def _health(self) -> None:
        from .graph_svg import graphviz_available

        self._json(200, {"ok": True, "graphviz": graphviz_available()})

    def _model_json(self) -> None:
        text = self.server.trainer.call("model_json")
        self._send(
            200, text.encode("utf-8"), "application/json", {"Content-Disposition": 'attachment; filename="model.json"'}
        )

    def _history_csv(self) -> None:
        text = self.server.trainer.call("history_csv")
        self._send(
            200,
            text.encode("utf-8"),
            "text/csv; charset=utf-8",
            {"Content-Disposition": 'attachment; filename="history.csv"'},
        )

    def _events(self) -> None:
        """Server-sent events: every training frame, as JSON, until the client leaves or the server stops."""
        if not self.server._streams.acquire(blocking=False):
            raise RequestError(HTTPStatus.TOO_MANY_REQUESTS, "too many open playground tabs")
        try:
            self._start(200, "text/event-stream", {})
            self.end_headers()
            self.close_connection = True
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            for chunk in self.server.trainer.frames():
                if chunk:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                elif self._client_left():
                    break
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        finally:
            self.server._streams.release()

    def _client_left(self) -> bool:
        """A closed tab shows up as a readable socket with nothing to read (an event stream's client never sends)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True
