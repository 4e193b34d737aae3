"""A throwaway PostgreSQL cluster for tests: initdb into a temporary folder, start it on a free
loopback port, hand out URLs, stop it and delete the folder.

The server binaries are found through $DRAFTSMAN_PGBIN, `pg_config --bindir`, or Debian's
/usr/lib/postgresql/<version>/bin (`apt-get install postgresql`). initdb and postgres refuse
to run as root, so as root they run as the `postgres` user (runuser), which owns the folder.
Durability is off (fsync, synchronous_commit, full_page_writes): the data is thrown away.

Authentication: the superuser `postgres` is trusted (on the socket and on 127.0.0.1); every
other user logs in over TCP with a password (scram-sha-256), so that tests can use a wrong one.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

HOST = "127.0.0.1"
_HBA = """\
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None when PostgreSQL is missing."""
    candidates: list[Path] = []
    if os.environ.get("DRAFTSMAN_PGBIN"):
        candidates.append(Path(os.environ["DRAFTSMAN_PGBIN"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for path in candidates:
        if all((path / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return path
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    return None


@dataclass(frozen=True)
class Cluster:
    bindir: Path
    folder: Path
    port: int

    def url(self, user: str = "postgres", dbname: str = "postgres", password: str = "") -> str:
        secret = f":{quote(password, safe='')}" if password else ""
        return f"postgresql://{quote(user, safe='')}{secret}@{HOST}:{self.port}/{dbname}"

    @property
    def log(self) -> str:
        try:
            return (self.folder / "log").read_text(errors="replace")
        except OSError:
            return ""


def _as_postgres() -> list[str]:
    """The command prefix that runs the server's tools as a user they accept."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root, but runuser (util-linux) is missing")
    return [runuser, "-u", "postgres", "--"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], folder: Path) -> None:
    done = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


@contextmanager
def running_cluster(bindir: Path) -> Iterator[Cluster]:
    """Start a new cluster; stop and delete it on exit."""
    prefix = _as_postgres()
    folder = Path(tempfile.mkdtemp(prefix="draftsman-pg-"))  # short: the socket lives there
    try:
        if prefix:
            shutil.chown(folder, "postgres", "postgres")
        data = folder / "data"
        _run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            folder,
        )
        (data / "pg_hba.conf").write_text(_HBA)
        cluster: Cluster | None = None
        for _attempt in range(5):  # a free port may be taken by someone else meanwhile
            port = _free_port()
            options = (
                f"-c listen_addresses={HOST} -p {port} -k {folder} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
            )
            command = [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ]
            done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
            if done.returncode == 0:
                cluster = Cluster(bindir, folder, port)
                break
            time.sleep(0.2)
        if cluster is None:
            log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{log[-3000:]}")
        try:
            yield cluster
        finally:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                cwd=folder,
                capture_output=True,
                timeout=60,
                check=False,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
