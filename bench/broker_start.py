"""How long the local Kafka broker takes to answer its first metadata request.

Cold: a fresh data directory (storage formatted first). Warm: the same directory again.
Runs on a port of its own (default 29092) and removes what it made.

    .venv/bin/python bench/broker_start.py [RUNS]
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PORT = int(os.environ.get("BENCH_KAFKA_PORT", "29092"))


def broker(action: str, var: Path) -> float:
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DOORSTEP_VAR": str(var),
        "KAFKA_PORT": str(PORT),
        "KAFKA_CONTROLLER_PORT": str(PORT + 1),
    }
    # Share the jars already fetched, so the figure is the broker's start, not Maven's.
    libs = REPO / "var" / "kafka-libs"
    if libs.exists() and not (var / "kafka-libs").exists():
        (var / "kafka-libs").symlink_to(libs)
    started = time.perf_counter()
    subprocess.run(["bash", str(REPO / "deploy" / "kafka.sh"), action], env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def main(runs: int) -> None:
    cold, warm, stop = [], [], []
    for _ in range(runs):
        var = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
        try:
            cold.append(broker("up", var))
            stop.append(broker("down", var))
            warm.append(broker("up", var))
            stop.append(broker("down", var))
        finally:
            shutil.rmtree(var, ignore_errors=True)
    print(f"local Kafka broker on 127.0.0.1:{PORT}, {runs} runs, seconds (median / min / max)")
    for name, figures in (("cold start (format + start)", cold), ("warm start", warm), ("clean stop", stop)):
        print(f"  {name:<28} {statistics.median(figures):6.2f} {min(figures):6.2f} {max(figures):6.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
