"""``jangrad serve``: the subcommand's arguments and the run loop that stops cleanly on Ctrl-C or SIGTERM.

``add_serve_command(subparsers)`` adds ``serve`` to the ``jangrad`` parser; the parsed arguments carry
``func``, which runs the server and ends the process with its exit status (0 after a clean stop, 2 when the port
is taken). It ends it at once, without the interpreter's teardown: a training run may be building its tape, a
graph of a few hundred thousand nodes, and collecting that at exit took seconds, against the promised stop within
one or two. ``serve()`` itself returns the status, for use in a running program.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
import webbrowser

__all__ = ["add_serve_command", "serve", "DEFAULT_PORT"]

DEFAULT_PORT = 8765


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return port


def add_serve_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``serve [--port N] [--open] [--verbose]`` to a parser's subcommands; returns the new subparser."""
    parser = subparsers.add_parser(
        "serve",
        help="the playground: a local web page to step through backward and watch a network train",
        description="Serve the playground on http://127.0.0.1:PORT/ (this machine only) until Ctrl-C.",
        epilog="example:\n  jangrad serve --port 8765 --open",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument("--open", action="store_true", help="open the page in the default web browser")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.set_defaults(func=_serve_command)
    return parser


def _serve_command(args: argparse.Namespace) -> int:
    """``jangrad serve``: serve, then end the process at once (see the module docstring)."""
    status = serve(args.port, open_browser=args.open, verbose=args.verbose)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def serve(port: int = DEFAULT_PORT, open_browser: bool = False, verbose: bool = False) -> int:
    """Run the playground until SIGINT or SIGTERM; return the exit status."""
    from .server import make_server

    try:
        server = make_server(port, quiet=not verbose)
    except OSError as error:
        reason = "is already in use" if error.errno == errno.EADDRINUSE else f"cannot be opened ({error.strerror})"
        sys.stderr.write(f"jangrad serve: error: port {port} {reason}; choose another with --port\n")
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="jangrad-serve", daemon=True
    )
    thread.start()
    print(f"jangrad playground: {server.url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        webbrowser.open(server.url)
    try:
        while not stop.wait(0.2):  # a short wait keeps the main thread ready to run the signal handler
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("jangrad playground: stopped", flush=True)
    return 0
