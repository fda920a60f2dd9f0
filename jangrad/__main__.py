"""``python -m jangrad``: the same as the ``jangrad`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
