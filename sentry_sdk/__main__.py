"""``python -m sentry_sdk demo``: see an event travel to a Sentry-compatible server, no account needed."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentry_sdk")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "demo", help="capture an exception, a message and a log line, and show what the server got"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run

        return run()
    return 2


if __name__ == "__main__":
    sys.exit(main())
