"""Where semantic rules report: located diagnostics, and the helpers every rule shares."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from draftsman_gen import ir
from draftsman_gen.diagnostics import Diagnostics, Location
from draftsman_gen.loader import SourceFile

P = tuple[str | int, ...]  # a path into a model file's data: ("processors", 0, "validator")


@dataclass
class Sink:
    """Diagnostics of the semantic stage, with the files that already failed their schema."""

    diags: Diagnostics
    broken: frozenset[str]  # files that failed to load or failed their schema
    start: int = 0  # diagnostics reported before this stage

    def __post_init__(self) -> None:
        self.start = len(self.diags)

    @property
    def failed(self) -> bool:
        return len(self.diags) > self.start or bool(self.broken)

    def err(self, loc: Location, code: str, message: str) -> None:
        self.diags.error(loc, code, message)

    def usable(self, source: SourceFile) -> bool:
        return source.rel not in self.broken

    def name_check(self, source: SourceFile, name: str, rule: Callable[[str], str | None],
                   path: P = (), key: bool = False) -> bool:
        """Report DG301 when `name` breaks `rule`; True when it is fine."""
        problem = rule(name)
        if problem:
            self.err(source.loc(path, key=key), "DG301", problem)
            return False
        return True


def snippet_loc(source: SourceFile, path: P, line: int) -> Location:
    """The model location of line `line` (1-based) of a snippet stored at `path`."""
    base = source.loc(path)
    if _is_block(source, path):
        # A block scalar's text starts on the line after its `|` or `>` indicator.
        return Location(base.file, base.line + line, 1)
    if line > 1:
        return Location(base.file, base.line + line - 1, 1)
    return base


def _is_block(source: SourceFile, path: P) -> bool:
    """True when the scalar at `path` is a `|` or `>` block (its text starts a line later)."""
    line, col = source.positions.get(path, (0, 0))
    if not line:
        return False
    text_lines = source.text.splitlines()
    if line - 1 >= len(text_lines):
        return False
    rest = text_lines[line - 1][col - 1 :].lstrip()
    return rest[:1] in ("|", ">")


def hint(name: str, options: Iterable[str]) -> str:
    """"; did you mean 'x'?" for the closest of `options`, or ""."""
    close = difflib.get_close_matches(name, sorted(options), n=1, cutoff=0.6)
    if not close:  # a different case is a likely slip too: "latefee" for "lateFee"
        folded = {option.lower().replace("_", ""): option for option in options}
        close = [folded[key] for key in [name.lower().replace("_", "")] if key in folded]
    return f"; did you mean '{close[0]}'?" if close else ""


def file_loc(source: SourceFile) -> ir.Loc:
    return ir.Loc(source.rel, 1)


def value_loc(source: SourceFile, path: P) -> ir.Loc:
    return ir.Loc(source.rel, source.loc(path).line)
