"""`doorstep kafka up|down|status`: the project's own broker script, with this Python."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "kafka.sh"


def script(action: str) -> int:
    if not SCRIPT.exists():
        print(f"doorstep: {SCRIPT} is missing; run from a clone of the repository", file=sys.stderr)
        return 2
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.call(["bash", str(SCRIPT), action], env=env)
