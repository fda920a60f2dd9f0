"""The playground: ``jangrad serve``, a local web page to step through backpropagation and watch a network train.

``serve(port)`` runs the server until Ctrl-C or SIGTERM; ``make_server(port)`` gives the server object for tests
and notebooks. The page itself (HTML, CSS, plain JavaScript) is package data under ``static/``.
"""

from .cli import add_serve_command, serve
from .server import PlaygroundServer, make_server

__all__ = ["serve", "make_server", "PlaygroundServer", "add_serve_command"]
