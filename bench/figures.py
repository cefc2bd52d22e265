"""What a benchmark hands to bench/run_all.py (the convention is in bench/README.md).

A benchmark script declares `BENCHMARK = "what it measures"` at module level, calls
`add_arguments(parser)`, uses the broker in `--bootstrap` when given (instead of starting
its own), and, when `--figures FILE` is given, writes its figures there with `write`.
"""

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    name: str
    value: str  # as printed, with its unit: "1.6 s", "209 MB", "2,443"
    target: str = "-"  # as printed: "< 30 s", ">= 5,000"; "-" when there is none
    met: bool | None = None  # None when there is no target
    # For a rate of Kafka records: records per second, their mean size in bytes, and which
    # raw aiokafka rate ("produce" or "consume") it is fairly compared with.
    rate: float | None = None
    record_bytes: int | None = None
    compare_with: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap", help="use this Kafka broker instead of starting one")
    parser.add_argument("--figures", type=Path, help="write the figures here, one JSON object a line")
    parser.add_argument("--quick", action="store_true", help="a smaller run, to try the benchmark out")


def write(path: Path | None, figures: list[Figure]) -> None:
    if path is None:
        return
    with path.open("a") as out:
        for figure in figures:
            out.write(json.dumps(asdict(figure)) + "\n")


def read(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def met_from(text: str) -> bool | None:
    """A benchmark's own yes / NO / - column, as `met`."""
    return {"yes": True, "no": False}.get(text.strip().lower())
