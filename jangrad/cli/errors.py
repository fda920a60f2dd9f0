"""The command line's own error: a problem with what the user asked for, which ``main`` prints as one line with
exit status 2. Its own module, so that every command's runner can raise it without importing ``main``."""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""
