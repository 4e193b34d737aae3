"""Send one GraphQL request and print the answer: the demo's client (standard library only).

    python scripts/graphql.py URL QUERY [VARIABLES_JSON] [--header 'Name: value' ...]
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    headers = {"Content-Type": "application/json"}
    args: list[str] = []
    while argv:
        item = argv.pop(0)
        if item == "--header":
            name, _, value = argv.pop(0).partition(":")
            headers[name.strip()] = value.strip()
        else:
            args.append(item)
    url, query, *rest = args
    variables = json.loads(rest[0]) if rest else {}
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            print(json.dumps(json.loads(answer.read()), indent=2))
    except urllib.error.HTTPError as exc:
        print(f"HTTP {exc.code}: {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
