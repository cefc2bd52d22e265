"""How long the local Kafka broker takes to answer its first metadata request.

Cold: a fresh data directory (storage formatted first). Warm: the same directory again.
Runs on a port of its own (default 29092) and removes what it made.

    .venv/bin/python bench/broker_start.py [RUNS] [--figures FILE]

It always measures a broker of its own, so --bootstrap is accepted and not used.
"""

import argparse

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import figures  # noqa: E402

BENCHMARK = "the local Kafka broker: cold start, warm start, clean stop"
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


def main(runs: int, figures_file: Path | None = None) -> None:
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
    for name, times in (("cold start (format + start)", cold), ("warm start", warm), ("clean stop", stop)):
        print(f"  {name:<28} {statistics.median(times):6.2f} {min(times):6.2f} {max(times):6.2f}")
    found = (("broker cold start (format + start), median", cold), ("broker warm start, median", warm),
             ("broker clean stop, median", stop))
    figures.write(figures_file, [figures.Figure(name, f"{statistics.median(times):.2f} s") for name, times in found])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=int, nargs="?", default=3)
    figures.add_arguments(parser)
    args = parser.parse_args()
    main(1 if args.quick else args.runs, args.figures)
