"""The landlord's records (homes, tenancies, contractors, certificates) loaded into an
end-to-end system's scheduler through `doorstep import`, as the landlord's staff would,
and a contractor's API token from `doorstep contractor-token`."""

import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shared.clock import offset_to
from tests.e2e.system import service_env


@dataclass(frozen=True)
class Landlord:
    env: dict[str, str]
    folder: Path

    def doorstep(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "services.cli.main", *args],
            env=self.env, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, f"doorstep {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def load(self, kind: str, rows: str) -> None:
        """`rows` is the CSV text, header first."""
        path = self.folder / f"{kind}.csv"
        path.write_text(rows)
        self.doorstep("import", kind, str(path))

    def contractor_token(self, contractor_id: str) -> str:
        return self.doorstep("contractor-token", contractor_id).strip()


def landlord(kafka: str, workdir: Path, at: datetime | None = None) -> Landlord:
    """Before (or between) `running_system` on the same folder; `at` as there, for the
    imports that read the date (certificates)."""
    env, _ = service_env(kafka, workdir)
    if at is not None:
        env["DOORSTEP_CLOCK_OFFSET_SECONDS"] = str(offset_to(at))
    folder = workdir / "records"
    folder.mkdir(parents=True, exist_ok=True)
    return Landlord(env, folder)
