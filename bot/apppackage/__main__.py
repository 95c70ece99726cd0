"""`python -m bot.apppackage ENV`: build appPackage/build/appPackage.ENV.zip from appPackage/ and env/.env.ENV."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from bot.apppackage import PackageError, build

    p = argparse.ArgumentParser(prog="python -m bot.apppackage", description=__doc__)
    p.add_argument("env", nargs="?", default="local", help="environment: reads env/.env.ENV (default: local)")
    p.add_argument(
        "--require-schema",
        action="store_true",
        help="fail, rather than skip the check, when the official manifest schema is not found",
    )
    args = p.parse_args(argv)
    try:
        built = build(args.env, require_schema=args.require_schema)
    except PackageError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    for note in built.notes:
        print(f"package: {note}")
    print(f"package: wrote {built.zip_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
