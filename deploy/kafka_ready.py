"""Exit 0 once a Kafka broker answers a metadata request, 1 if it does not in time.

Usage: python deploy/kafka_ready.py HOST:PORT [TIMEOUT_SECONDS]
"""

import asyncio
import logging
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


async def answers(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.describe_cluster()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False
    finally:
        await admin.close()


async def wait(bootstrap: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await answers(bootstrap):
            return True
        await asyncio.sleep(0.5)
    return False


if __name__ == "__main__":
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    target = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    sys.exit(0 if asyncio.run(wait(target, seconds)) else 1)
