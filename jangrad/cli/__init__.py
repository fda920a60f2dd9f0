"""The ``jangrad`` command: ``main`` parses and reports; ``expressions`` runs graph, explain and gradcheck;
``training`` runs demo, train and sweep."""

from .main import UsageError, build_parser, main

__all__ = ["main", "build_parser", "UsageError"]
