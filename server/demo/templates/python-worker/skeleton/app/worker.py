"""${{ values.name }}: consumes the `${{ values.queue }}` queue."""

import json
import logging
import os
import sys

QUEUE = os.environ.get("QUEUE", "${{ values.queue }}")
log = logging.getLogger("${{ values.name }}")


def handle(message: dict) -> dict:
    """Handles one message; what it returns is acknowledged."""
    if "id" not in message:
        raise ValueError("a message needs an id")
    return {"id": message["id"], "queue": QUEUE, "done": True}


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    log.info("consuming %s", QUEUE)
    for line in sys.stdin:
        print(json.dumps(handle(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
