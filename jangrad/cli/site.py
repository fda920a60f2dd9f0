"""``jangrad site OUT_DIR``: build the playground as a static folder (no install, no server: jangrad runs in the
visitor's browser), with the options that pass the build inputs by hand.

``add_site_command(subparsers)`` adds the subcommand; its ``func`` builds the folder and returns the exit status:
0 when written, 2 (one line on stderr) when it cannot be, as every jangrad command does.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_site_command"]

_EPILOG = """\
examples:
  jangrad site site-out                      # Pyodide and viz.js from npm, wheels from PyPI (cached)
  cd site-out && python3 -m http.server      # then open http://127.0.0.1:8000/
  jangrad site site-out --pyodide pyodide-314.0.8.tgz --viz viz-js-viz-3.31.0.tgz --wheels wheels/

The folder is static: copy it to any web host (GitHub Pages, a course's web space). The page fetches nothing
from anywhere else. Downloads are kept in ~/.cache/jangrad/site (or --cache), so a rebuild is quick."""


def add_site_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``site OUT_DIR [--pyodide P] [--viz P] [--wheels DIR] [--cache DIR]``; returns the new subparser."""
    parser = subparsers.add_parser(
        "site",
        help="build the playground and jangrad check as a static folder that runs in the browser, no install",
        description="Write a static web folder: the playground's page, with jangrad running in the browser "
        "(Pyodide), and a tab that checks your own Value class.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="the folder to write (replaced if it holds an earlier site)")
    parser.add_argument(
        "--pyodide", metavar="PATH", help="Pyodide's npm tarball (npm pack pyodide@VERSION) or its unpacked folder"
    )
    parser.add_argument(
        "--viz", metavar="PATH", help="viz.js's npm tarball (npm pack @viz-js/viz@VERSION) or its unpacked folder"
    )
    parser.add_argument(
        "--wheels", metavar="DIR", help="a folder with the wheels of hypothesis, sortedcontainers, graphviz"
    )
    parser.add_argument("--cache", metavar="DIR", help="where downloads are kept (default ~/.cache/jangrad/site)")
    parser.set_defaults(func=_site_command)
    return parser


def _site_command(args: argparse.Namespace) -> int:
    from ..site import SiteError, build_site

    try:
        summary = build_site(
            args.out_dir, pyodide=args.pyodide, viz=args.viz, wheel_folder=args.wheels, cache=args.cache
        )
    except (SiteError, OSError) as error:
        message = " ".join(str(error).split())
        sys.stderr.write(f"jangrad site: error: {message}\n")
        return 2
    print(summary.text())
    print(f"open it: cd {summary.folder} && python3 -m http.server  (then http://127.0.0.1:8000/)")
    return 0
