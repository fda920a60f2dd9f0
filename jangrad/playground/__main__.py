"""``python -m jangrad.playground [--port N]``: the same as ``jangrad serve``."""

import argparse
import sys

from .cli import add_serve_command

parser = argparse.ArgumentParser(prog="python -m jangrad.playground")
add_serve_command(parser.add_subparsers(dest="command"))
arguments = parser.parse_args(["serve", *sys.argv[1:]])
sys.exit(arguments.func(arguments))
