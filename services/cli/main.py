"""`doorstep`: run the system, manage the local broker, watch a topic, report performance."""

import argparse
import sys
from pathlib import Path

from services.cli import kafka, run, watch
from services.cli import contractor_token, importer, templates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="doorstep", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    kafka_cmd = commands.add_parser("kafka", help="the local single-node Kafka broker")
    kafka_cmd.add_argument("action", choices=["up", "down", "status", "fetch"])

    watch_cmd = commands.add_parser("watch", help="live tail of a topic, decoded")
    watch_cmd.add_argument("topic")
    watch_cmd.add_argument("--from-beginning", action="store_true")
    watch_cmd.add_argument("--bootstrap-servers", default=None)

    commands.add_parser("run", help="the broker and all four services, until Ctrl-C")

    report_cmd = commands.add_parser("report", help="performance figures for a quarter or a year")
    report_period = report_cmd.add_mutually_exclusive_group(required=True)
    report_period.add_argument("--quarter", help="a calendar quarter, e.g. 2026Q3")
    report_period.add_argument("--year", help="a calendar year (2026) or a financial year (2026-27)")
    report_cmd.add_argument("--out", type=Path, default=Path("var/reports"), help="where the CSV and JSON go")

    templates.add_arguments(commands)
    importer.add_arguments(commands)
    contractor_token.add_arguments(commands)

    args = parser.parse_args(argv)
    if args.command == "kafka":
        return kafka.script(args.action)
    if args.command == "watch":
        return watch.main(args.topic, args.from_beginning, args.bootstrap_servers)
    if args.command == "report":
        from services.cli import report  # the database and reporting code load only when asked

        return report.main(args.quarter, args.year, args.out)
    if args.command == "contractor-token":
        return contractor_token.main(args.contractor_id)
    if args.command == "import":
        return importer.main(args.kind, args.file)
    if args.command == "templates":
        return templates.main(args)
    return run.main()


if __name__ == "__main__":
    sys.exit(main())
