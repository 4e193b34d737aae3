"""`python -m <package> serve`: uvicorn running the API of `api.py`, one or more processes.

With `--workers N`, uvicorn starts N processes that import the application by name
(`app_from_environment`); the package and the store reach them through the environment. Each
process runs its own dispatcher thread: several dispatchers on one store give every command
and delivery exactly one effect (see docs/runtime.md).
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import socket
import sys

import uvicorn

from .api import create_app
from .config import Settings
from .errors import ConfigError
from .model import Registry
from .service import Service

PACKAGE_VARIABLE = "DRAFTSMAN_SERVE_PACKAGE"
DISPATCH_VARIABLE = "DRAFTSMAN_SERVE_DISPATCH"
log = logging.getLogger("draftsman_runtime.api")


def serve(
    registry: Registry,
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    dispatch: bool = True,
) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit code."""
    problem = _bind_problem(host, port)
    if problem:
        print(f"error: cannot listen on {host}:{port}: {problem}", file=sys.stderr)
        return 3
    level = settings.log_level.lower()
    if workers == 1:
        app = create_app(
            registry,
            service=lambda: Service(registry, settings=settings),
            dispatch=dispatch,
        )
        config = uvicorn.Config(app, host=host, port=port, log_level=level, lifespan="on")
        server = uvicorn.Server(config)
        server.run()
        return 0 if server.started else 3
    if port == 0:  # uvicorn's workers would report port 0: choose the free port here
        port = _free_port(host)
    # The worker processes build the application themselves, from the environment; build it
    # once here too, so that a bad setting is one line now rather than workers respawning.
    create_app(registry, service=lambda: Service(registry, settings=settings), dispatch=False)
    os.environ[PACKAGE_VARIABLE] = registry.package
    os.environ[DISPATCH_VARIABLE] = "1" if dispatch else "0"
    os.environ[f"{registry.env_prefix}_DATABASE"] = settings.database
    uvicorn.run(
        "draftsman_runtime.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=level,
        lifespan="on",
    )
    return 0


def app_from_environment() -> object:
    """The application of the package `DRAFTSMAN_SERVE_PACKAGE` names (for `--workers`)."""
    package = os.environ.get(PACKAGE_VARIABLE, "")
    if not package:
        raise ConfigError(f"{PACKAGE_VARIABLE} is not set")
    registry = importlib.import_module(f"{package}.registry").REGISTRY
    if not isinstance(registry, Registry):
        raise ConfigError(f"{package}.registry.REGISTRY is not a draftsman Registry")
    settings = Settings.from_env(registry.env_prefix, registry.package)
    return create_app(
        registry,
        service=lambda: Service(registry, settings=settings),
        dispatch=os.environ.get(DISPATCH_VARIABLE, "1") == "1",
    )


def _free_port(host: str) -> int:
    family, kind, proto, _name, address = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.bind(address)
        return int(probe.getsockname()[1])


def _bind_problem(host: str, port: int) -> str:
    """Why the address cannot be listened on, or "" (checked first, for one clear line)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"unknown host ({exc.strerror})"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "the port is in use"
            return exc.strerror or str(exc)
    return ""
