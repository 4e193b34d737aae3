"""Diagnostics are values: every stage appends to a list and the CLI prints them at the end."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from draftsman_gen.codes import CODES


@dataclass(frozen=True, order=True)
class Location:
    """A position in a model file; `file` is relative to the model directory, line/col 1-based."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    location: Location
    code: str
    message: str
    severity: str = "error"

    def text(self) -> str:
        return f"{self.location}: {self.severity}[{self.code}]: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.col,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }

    def github(self) -> str:
        # GitHub workflow commands need %, CR and LF escaped in the message part.
        msg = self.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        loc = self.location
        return (
            f"::{self.severity} file={loc.file},line={loc.line},col={loc.col},"
            f"title={self.code}::{msg}"
        )


class Diagnostics:
    """An append-only collection of diagnostics."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def error(self, location: Location, code: str, message: str) -> None:
        assert code in CODES, f"{code} is not in draftsman_gen/codes.py"
        self._items.append(Diagnostic(location, code, message))

    def extend(self, items: Iterable[Diagnostic]) -> None:
        self._items.extend(items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(set(self._items))


FORMATS = ("text", "json", "github")


def render(diagnostics: list[Diagnostic], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([d.as_dict() for d in diagnostics], indent=2) + "\n"
    if fmt == "github":
        return "".join(d.github() + "\n" for d in diagnostics)
    return "".join(d.text() + "\n" for d in diagnostics)
