"""The playground: ``jangrad serve``, a local web page to step through backpropagation and watch a network train.

``serve(port)`` runs the server until Ctrl-C or SIGTERM; ``make_server(port)`` gives the server object for tests
and notebooks. The page itself (HTML, CSS, one ES module per panel) is package data under ``static/``; it talks to
its engine only through ``static/transport.js``. Every request it makes is a plain function from JSON to JSON in
``api.py`` (the network lab's ``api.Lab`` holds the training ``session.Session``), which ``server.py`` routes to and
``training.py`` drives from a thread: a page that runs jangrad in a Web Worker calls the same functions.
"""

from .cli import add_serve_command, serve
from .server import PlaygroundServer, make_server

__all__ = ["serve", "make_server", "PlaygroundServer", "add_serve_command"]
