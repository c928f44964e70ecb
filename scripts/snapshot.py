"""Take a byte-for-byte snapshot of a provider's published OpenAPI document.

Flamel and Generect publish their OpenAPI YAML inside a documentation page (the seed).
This script copies the YAML block out of such a page, unchanged, into
``specs/upstream/<provider>.yaml``. Every fix happens later, in the normalizer
(``scripts/codegen/``), never in the snapshot.

    python scripts/snapshot.py flamel ../shared/seeds/000_1f481aa5de535f3f.txt
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The docs pages wrap the document in a ````yaml <source url> ... ```` fence.
_FENCE = re.compile(r"^````yaml[^\n]*\n(?P<body>.*?)^````", re.S | re.M)


def extract(page: str) -> str:
    match = _FENCE.search(page)
    if match is None:
        raise SystemExit("no ````yaml fenced block found in the page")
    return match.group("body")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("provider", help="provider name, e.g. flamel")
    parser.add_argument("page", type=Path, help="the documentation page holding the YAML")
    args = parser.parse_args(argv)
    body = extract(args.page.read_text(encoding="utf-8"))
    target = ROOT / "specs" / "upstream" / f"{args.provider}.yaml"
    target.write_bytes(body.encode("utf-8"))
    print(f"wrote {target.relative_to(ROOT)} ({len(body.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
