"""`doorstep`: run the system, manage the local broker, watch a topic."""

import argparse
import sys

from services.cli import kafka, run, watch


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

    args = parser.parse_args(argv)
    if args.command == "kafka":
        return kafka.script(args.action)
    if args.command == "watch":
        return watch.main(args.topic, args.from_beginning, args.bootstrap_servers)
    return run.main()


if __name__ == "__main__":
    sys.exit(main())
