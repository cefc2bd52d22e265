"""The SLA monitor benchmark (sla_monitor.py) with two replicas in one consumer group:
the partitions split between two processes over one database, as the monitor scales out.

    .venv/bin/python bench/sla_monitor_replicas.py [any option of sla_monitor.py]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import sla_monitor  # noqa: E402

BENCHMARK = "two SLA monitor replicas sharing the partitions: ingest, breaches once each"

if __name__ == "__main__":
    sys.argv[1:1] = ["--replicas", "2"]
    sla_monitor.main()
