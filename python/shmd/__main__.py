"""python -m shmd [--socket PATH] ls | info NAME: JSON for scripts."""

import argparse
import json
import sys
from typing import Any, List, Optional

from . import Client, Error


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shmd",
        description="Ask shmd about its segments; prints JSON.")
    parser.add_argument("--socket", help="the daemon's socket (default: "
                        "$SHMD_SOCKET, else /run/shmd/shmd.sock)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ls", help="the segments you may open, as a JSON array")
    info = sub.add_parser("info", help="one segment, as a JSON object")
    info.add_argument("name")
    args = parser.parse_args(argv)
    try:
        with Client(args.socket) as client:
            out: Any
            if args.command == "ls":
                out = [s.as_dict() for s in client.list()]
            else:
                out = client.open(args.name).as_dict()
    except Error as exc:
        what = "info %s" % args.name if args.command == "info" else "ls"
        print("python -m shmd: %s: %s" % (what, exc), file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
