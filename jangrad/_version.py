"""jangrad's version, in a module of its own so that any layer (a model file's header) can read it."""

__version__ = "0.1.0"
