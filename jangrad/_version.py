"""jangrad's version, in a module of its own so that any layer (a model file's header) can read it.

The one place the version is written: ``pyproject.toml`` reads it from here (``[tool.setuptools.dynamic]``).
"""

__version__ = "0.2.0"
