"""Linear-time matching of model patterns: a subset of Python's re syntax, run as a lazy DFA.

Why not ``re``: Python's engine backtracks, so a pattern such as ``(?:[A-Z]|[A-Z]{2})*X`` takes
time exponential in the length of the value, and a client choosing the value can hang the
service. Here a pattern is parsed into a small syntax tree, compiled to a Thompson NFA, and run
as a DFA whose states (frozensets of NFA states) and transitions are built on first use. Each
character of the text then costs one dict lookup once the automaton is warm, and at most one
walk over the NFA when a transition is new: time is linear in the length of the text.

Supported syntax, with the meaning of ``re.fullmatch(source, text)`` for str patterns and no
flags: literals; escapes of punctuation, ``\\t \\n \\r \\f \\v \\a``, ``\\xhh``, ``\\uXXXX``,
``\\UXXXXXXXX``, ``\\N{name}`` and octal escapes; ``\\d \\D \\w \\W \\s \\S`` (Unicode); ``.``;
classes ``[...]`` and ``[^...]``; groups ``(...)``, ``(?:...)``, ``(?P<name>...)``; alternation;
greedy and lazy quantifiers ``* + ? {n} {n,} {,m} {n,m}`` (laziness cannot change the answer of
a full match); ``^`` as the first and ``$`` as the last character, which a full match implies.
Everything else (backreferences, lookaround, inline flags, atomic groups, possessive
quantifiers, conditionals, comments, ``\\b \\B \\A \\Z``, anchors inside the pattern) and every
syntax error of ``re`` raises :class:`PatternError` with the position of the construct. Any
pattern accepted here also compiles with ``re`` and matches exactly the same strings.

Bounds, so that neither a pattern nor a text can exhaust memory: counted repetitions up to
1,000, NFAs up to 20,000 states, group nesting up to 64 levels. The DFA cache of a pattern holds
at most 10,000 states and 200,000 cells (transitions plus NFA states held by DFA states); past
that it is dropped and rebuilt on demand, which keeps matching linear. :func:`compile` keeps the
256 most recently used patterns.

Threads: the cache is only ever extended with fully built objects (a DFA state is complete before
it is inserted, a transition is one dict assignment), so concurrent ``fullmatch`` calls under
CPython see either a missing entry, which they compute themselves, or a finished one.
"""

from __future__ import annotations

import functools
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["Pattern", "PatternError", "compile"]

MAX_REPEAT = 1_000
MAX_NFA_STATES = 20_000
MAX_NESTING = 64
MAX_DFA_STATES = 10_000
MAX_CACHE_CELLS = 200_000

_DIGITS = frozenset("0123456789")
_OCT_DIGITS = frozenset("01234567")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_QUANTIFIERS = "*+?{"
# re's inline flag letters: "(?" followed by one of these starts a flag group.
_FLAG_LETTERS = frozenset("iLmsxatu-")
# Single-letter escapes meaning one character. Inside a class \b is a backspace, as in re.
_CHAR_ESCAPES = {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_CLASS_CHAR_ESCAPES = {**_CHAR_ESCAPES, "b": "\b"}
_HEX_ESCAPE_WIDTHS = {"x": 2, "u": 4, "U": 8}
_ZERO_WIDTH_ESCAPES = {
    "A": "\\A (start of string)",
    "Z": "\\Z (end of string)",
    "b": "\\b (word boundary)",
    "B": "\\B (non-boundary)",
}


class PatternError(ValueError):
    """A pattern outside the supported syntax."""

    def __init__(self, message: str, position: int) -> None:
        # args stay (message, position) so that the exception pickles and copies intact.
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} at position {self.position}"


# -- character sets -----------------------------------------------------------------------------

Predicate = Callable[[str], bool]


# The category predicates are those of re for str patterns (CATEGORY_UNI_*); the tests check
# them against re for every code point.
def _is_digit(ch: str) -> bool:
    return ch.isdecimal()


def _is_not_digit(ch: str) -> bool:
    return not ch.isdecimal()


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _is_not_word(ch: str) -> bool:
    return not (ch.isalnum() or ch == "_")


def _is_space(ch: str) -> bool:
    return ch.isspace()


def _is_not_space(ch: str) -> bool:
    return not ch.isspace()


_CATEGORIES: dict[str, Predicate] = {
    "d": _is_digit,
    "D": _is_not_digit,
    "w": _is_word,
    "W": _is_not_word,
    "s": _is_space,
    "S": _is_not_space,
}


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, non-overlapping, non-adjacent code point ranges."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


class _CharSet:
    """What one NFA state consumes: code point ranges and categories, possibly negated."""

    __slots__ = ("_categories", "_ends", "_negated", "_starts", "literal")

    def __init__(
        self,
        ranges: Iterable[tuple[int, int]],
        categories: Iterable[Predicate] = (),
        negated: bool = False,
    ) -> None:
        merged = _merge(ranges)
        self._starts = tuple(lo for lo, _ in merged)
        self._ends = tuple(hi for _, hi in merged)
        self._categories = tuple(dict.fromkeys(categories))
        self._negated = negated
        # A set of exactly one character is matched by a dict lookup when a DFA state is built.
        single = len(merged) == 1 and merged[0][0] == merged[0][1]
        plain = single and not negated and not self._categories
        self.literal: str | None = chr(merged[0][0]) if plain else None

    def contains(self, ch: str) -> bool:
        code = ord(ch)
        index = bisect_right(self._starts, code) - 1
        if index >= 0 and code <= self._ends[index]:
            return not self._negated
        for category in self._categories:
            if category(ch):
                return not self._negated
        return self._negated


def _literal(ch: str) -> _CharSet:
    return _CharSet([(ord(ch), ord(ch))])


_ANY_BUT_NEWLINE = _CharSet([(10, 10)], negated=True)


# -- syntax tree --------------------------------------------------------------------------------
# Every node carries `size`, an upper bound of the NFA states it compiles to, so that a pattern
# that would build a huge automaton is refused while it is parsed, before anything is built.


@dataclass(frozen=True, slots=True)
class _Chars:
    charset: _CharSet
    size: int = 1


@dataclass(frozen=True, slots=True)
class _Seq:
    items: tuple[_Node, ...]
    size: int


@dataclass(frozen=True, slots=True)
class _Alt:
    branches: tuple[_Node, ...]
    size: int


@dataclass(frozen=True, slots=True)
class _Repeat:
    item: _Node
    lo: int
    hi: int | None  # None: unbounded
    size: int


_Node = _Chars | _Seq | _Alt | _Repeat
_EMPTY = _Seq((), 0)


def _repeat(item: _Node, lo: int, hi: int | None) -> _Repeat:
    # An empty item still costs one unit: (?:){1000}{...} must not loop a million times.
    unit = max(item.size, 1)
    optional = unit + 1 if hi is None else (hi - lo) * (unit + 1)
    return _Repeat(item, lo, hi, lo * unit + optional)


# -- parser -------------------------------------------------------------------------------------
# The parser follows re's own (re/_parser.py) closely: the same tokens, the same decisions on
# what a "{" or a "-" means, and the same error positions for re's syntax errors.

_ClassItem = int | Predicate  # a code point, or a category such as \d


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.groups = 0  # capturing groups opened so far, for re's duplicate-name message
        self.names: dict[str, int] = {}

    def parse(self) -> _Node:
        node = self._alternation(0)
        if self.pos < len(self.src):
            # Only a ")" stops the top-level alternation before the end.
            raise PatternError("unbalanced parenthesis", self.pos)
        return node

    # -- low-level reading --

    def _peek(self) -> str | None:
        return self.src[self.pos] if self.pos < len(self.src) else None

    def _match(self, ch: str) -> bool:
        if self._peek() == ch:
            self.pos += 1
            return True
        return False

    def _token(self) -> str | None:
        """The next character, or a backslash with the character after it (re's tokens)."""
        if self.pos >= len(self.src):
            return None
        start = self.pos
        if self.src[start] == "\\":
            if start + 1 >= len(self.src):
                raise PatternError("bad escape (end of pattern)", len(self.src) - 1)
            self.pos += 2
        else:
            self.pos += 1
        return self.src[start : self.pos]

    def _take(self, count: int, allowed: frozenset[str]) -> str:
        taken = ""
        while len(taken) < count and self._peek() in allowed:
            taken += self.src[self.pos]
            self.pos += 1
        return taken

    # -- structure --

    def _alternation(self, depth: int) -> _Node:
        branches = [self._sequence(depth)]
        size = branches[0].size
        while self._match("|"):
            start = self.pos - 1
            branches.append(self._sequence(depth))
            size += branches[-1].size
            _check_size(size + 1, start)
        if len(branches) == 1:
            return branches[0]
        return _Alt(tuple(branches), size + 1)

    def _sequence(self, depth: int) -> _Node:
        items: list[_Node] = []
        kinds: list[str] = []  # "atom", "repeat" or "anchor": what a quantifier may follow
        size = 0
        while (ch := self._peek()) is not None and ch not in "|)":
            start = self.pos
            bounds = self._quantifier() if ch in _QUANTIFIERS else None
            if bounds is not None:
                size -= items[-1].size if items else 0
                self._apply_quantifier(items, kinds, bounds, start)
            elif ch == "{":
                self.pos += 1  # a "{" that starts no quantifier is a literal, as in re
                items.append(_Chars(_literal("{")))
                kinds.append("atom")
            else:
                node, kind = self._atom(depth)
                items.append(node)
                kinds.append(kind)
            size += items[-1].size
            _check_size(size, start)
        if len(items) == 1:
            return items[0]
        return _Seq(tuple(items), size)

    def _atom(self, depth: int) -> tuple[_Node, str]:
        ch = self.src[self.pos]
        if ch == "\\":
            return _Chars(self._escape()), "atom"
        if ch == "[":
            return _Chars(self._class()), "atom"
        if ch == "(":
            return self._group(depth), "atom"
        if ch in "^$":
            return self._anchor(ch), "anchor"
        self.pos += 1
        return _Chars(_ANY_BUT_NEWLINE if ch == "." else _literal(ch)), "atom"

    def _anchor(self, ch: str) -> _Node:
        # A full match implies both anchors at the ends; anywhere else they would need
        # zero-width assertions in the automaton, which it does not have.
        if ch == "^" and self.pos == 0:
            self.pos += 1
            return _EMPTY
        if ch == "$" and self.pos == len(self.src) - 1:
            self.pos += 1
            return _EMPTY
        where = "start" if ch == "^" else "end"
        raise PatternError(f"anchor {ch} is only supported at the {where} of the pattern", self.pos)

    # -- quantifiers --

    def _quantifier(self) -> tuple[int, int | None] | None:
        """Read a quantifier at pos; None (pos unchanged) for a "{" that is a literal."""
        ch = self.src[self.pos]
        self.pos += 1
        if ch == "*":
            return 0, None
        if ch == "+":
            return 1, None
        if ch == "?":
            return 0, 1
        return self._counted_quantifier()

    def _counted_quantifier(self) -> tuple[int, int | None] | None:
        here = self.pos  # just after "{": re reports its range error here
        low = self._take(len(self.src), _DIGITS)
        high = self._take(len(self.src), _DIGITS) if self._match(",") else low
        if here == len(self.src) or self.src[here] == "}" or not self._match("}"):
            self.pos = here - 1
            return None
        lo = int(low) if low else 0
        hi = int(high) if high else None
        if hi is not None and hi < lo:
            raise PatternError("min repeat greater than max repeat", here)
        return lo, hi

    def _apply_quantifier(
        self, items: list[_Node], kinds: list[str], bounds: tuple[int, int | None], start: int
    ) -> None:
        if not items or kinds[-1] == "anchor":
            raise PatternError("nothing to repeat", start)
        if kinds[-1] == "repeat":
            raise PatternError("multiple repeat", start)
        if self._match("+"):
            raise PatternError("possessive quantifier is not supported", start)
        self._match("?")  # lazy: the same strings match in full, only the order of tries differs
        lo, hi = bounds
        if max(lo, hi or 0) > MAX_REPEAT:
            raise PatternError(f"pattern too large: repetition count over {MAX_REPEAT}", start)
        items[-1] = _repeat(items[-1], lo, hi)
        kinds[-1] = "repeat"
        _check_size(items[-1].size, start)

    # -- groups --

    def _group(self, depth: int) -> _Node:
        start = self.pos
        self.pos += 1
        if depth >= MAX_NESTING:
            raise PatternError(f"pattern too deeply nested (over {MAX_NESTING} groups)", start)
        if self._match("?"):
            self._extension(start)
        else:
            self.groups += 1
        node = self._alternation(depth + 1)
        if not self._match(")"):
            raise PatternError("missing ), unterminated subpattern", start)
        return node

    def _extension(self, start: int) -> None:
        """Check what follows "(?": only (?: and (?P<name> are plain groups."""
        question = self.pos - 1
        ch = self._token()
        if ch is None:
            raise PatternError("unexpected end of pattern", self.pos)
        if ch == ":":
            return
        if ch == "P":
            self._python_extension(start, question)
            return
        unsupported = {
            "=": "lookahead",
            "!": "negative lookahead",
            "#": "comment group",
            "(": "conditional group",
            ">": "atomic group",
        }
        if ch in unsupported:
            raise PatternError(f"{unsupported[ch]} is not supported", start)
        if ch in _FLAG_LETTERS:
            raise PatternError("inline flags are not supported", start)
        if ch == "<":
            self._lookbehind(start, question)
        raise PatternError(f"unknown extension ?{ch}", question)

    def _lookbehind(self, start: int, question: int) -> None:
        ch = self._token()
        if ch is None:
            raise PatternError("unexpected end of pattern", self.pos)
        if ch in ("=", "!"):
            negative = "negative " if ch == "!" else ""
            raise PatternError(f"{negative}lookbehind is not supported", start)
        raise PatternError(f"unknown extension ?<{ch}", question)

    def _python_extension(self, start: int, question: int) -> None:
        if self._match("<"):
            self._named_group()
            return
        if self._match("="):
            raise PatternError("backreference (?P=name) is not supported", start)
        ch = self._token()
        if ch is None:
            raise PatternError("unexpected end of pattern", self.pos)
        raise PatternError(f"unknown extension ?P{ch}", question)

    def _named_group(self) -> None:
        name = self._until(">", "group name")
        name_start = self.pos - len(name) - 1
        if not name.isidentifier():
            raise PatternError(f"bad character in group name {name!r}", name_start)
        self.groups += 1
        if name in self.names:
            message = (
                f"redefinition of group name {name!r} as group {self.groups}; "
                f"was group {self.names[name]}"
            )
            raise PatternError(message, name_start)
        self.names[name] = self.groups

    def _until(self, terminator: str, what: str) -> str:
        """Tokens up to terminator (consumed), with re's errors for a missing or empty one."""
        result = ""
        while True:
            token = self._token()
            if token is None:
                if not result:
                    raise PatternError(f"missing {what}", self.pos)
                message = f"missing {terminator}, unterminated name"
                raise PatternError(message, self.pos - len(result))
            if token == terminator:
                if not result:
                    raise PatternError(f"missing {what}", self.pos - 1)
                return result
            result += token

    # -- escapes --

    def _escape(self) -> _CharSet:
        """An escape outside a class: a character, a category, or an error."""
        start = self.pos
        token = self._token()
        assert token is not None
        letter = token[1]
        if letter in _ZERO_WIDTH_ESCAPES:
            raise PatternError(f"{_ZERO_WIDTH_ESCAPES[letter]} is not supported", start)
        if letter in _CATEGORIES:
            return _CharSet((), [_CATEGORIES[letter]])
        if letter in _CHAR_ESCAPES:
            return _literal(_CHAR_ESCAPES[letter])
        if letter in _DIGITS:
            return _literal(chr(self._digit_escape(letter, start)))
        return _literal(chr(self._code_escape(token, start)))

    def _digit_escape(self, first: str, start: int) -> int:
        if first == "0":
            return int(first + self._take(2, _OCT_DIGITS), 8)
        digits = first + self._take(1, _DIGITS)
        if len(digits) == 2 and set(digits) <= _OCT_DIGITS and self._peek() in _OCT_DIGITS:
            digits += self._take(1, _OCT_DIGITS)
            return _octal(digits, start)
        raise PatternError(f"backreference \\{digits} is not supported", start)

    def _code_escape(self, token: str, start: int) -> int:
        """The escapes meaning one character in and out of classes: hex, names, punctuation."""
        letter = token[1]
        if letter in _HEX_ESCAPE_WIDTHS:
            return self._hex_escape(token, start)
        if letter == "N":
            return self._named_escape(start)
        if letter in _ASCII_LETTERS or letter in _DIGITS:
            raise PatternError(f"bad escape {token}", start)
        return ord(letter)

    def _hex_escape(self, token: str, start: int) -> int:
        width = _HEX_ESCAPE_WIDTHS[token[1]]
        escape = token + self._take(width, _HEX_DIGITS)
        if len(escape) != width + 2:
            raise PatternError(f"incomplete escape {escape}", start)
        value = int(escape[2:], 16)  # noqa: FURB166 - the prefix is a backslash escape, not 0x
        if value > 0x10FFFF:
            raise PatternError(f"bad escape {escape}", start)
        return value

    def _named_escape(self, start: int) -> int:
        if not self._match("{"):
            raise PatternError("missing {", self.pos)
        name = self._until("}", "character name")
        try:
            found = unicodedata.lookup(name)
        except KeyError:
            found = ""
        if len(found) != 1:  # unknown, or a named sequence of several characters
            raise PatternError(f"undefined character name {name!r}", start)
        return ord(found)

    # -- classes --

    def _class(self) -> _CharSet:
        here = self.pos
        self.pos += 1
        negated = self._match("^")
        items: list[_ClassItem] = []
        ranges: list[tuple[int, int]] = []
        while True:
            this = self._token()
            if this is None:
                raise PatternError("unterminated character set", here)
            if this == "]" and (items or ranges):
                break  # a "]" right after "[" or "[^" is a member
            first = self._class_member(this)
            if not self._match("-"):
                items.append(first)
                continue
            that = self._token()
            if that is None:
                raise PatternError("unterminated character set", here)
            if that == "]":
                items.extend((first, ord("-")))  # "-" before the closing "]" is a member
                break
            ranges.append(self._class_range(this, first, that))
        codes = [item for item in items if isinstance(item, int)]
        ranges.extend((code, code) for code in codes)
        categories = [item for item in items if not isinstance(item, int)]
        return _CharSet(ranges, categories, negated)

    def _class_range(self, this: str, first: _ClassItem, that: str) -> tuple[int, int]:
        last = self._class_member(that)
        if not isinstance(first, int) or not isinstance(last, int) or last < first:
            position = self.pos - len(this) - 1 - len(that)
            raise PatternError(f"bad character range {this}-{that}", position)
        return first, last

    def _class_member(self, token: str) -> _ClassItem:
        if not token.startswith("\\"):
            return ord(token)
        start = self.pos - 2
        letter = token[1]
        if letter in _CLASS_CHAR_ESCAPES:
            return ord(_CLASS_CHAR_ESCAPES[letter])
        if letter in _CATEGORIES:
            return _CATEGORIES[letter]
        if letter in _OCT_DIGITS:
            return _octal(letter + self._take(2, _OCT_DIGITS), start)
        return self._code_escape(token, start)


def _octal(digits: str, start: int) -> int:
    value = int(digits, 8)
    if value > 0o377:
        raise PatternError(f"octal escape value \\{digits} outside of range 0-0o377", start)
    return value


def _check_size(size: int, position: int) -> None:
    if size > MAX_NFA_STATES:
        raise PatternError(f"pattern too large: over {MAX_NFA_STATES} automaton states", position)


# -- Thompson NFA -------------------------------------------------------------------------------


class _Nfa:
    """States are numbers; a state either consumes one character of `charsets[s]` and moves to
    `targets[s][0]`, or (charset None) moves to all of `targets[s]` without consuming. State 0
    accepts."""

    ACCEPT = 0

    def __init__(self, root: _Node) -> None:
        self.charsets: list[_CharSet | None] = [None]
        self.targets: list[list[int]] = [[]]
        # Built back to front: each node is compiled knowing the state that follows it.
        self.start = self._build(root, self.ACCEPT)

    def _new(self, charset: _CharSet | None, targets: list[int]) -> int:
        self.charsets.append(charset)
        self.targets.append(targets)
        return len(self.charsets) - 1

    def _build(self, node: _Node, follow: int) -> int:
        if isinstance(node, _Chars):
            return self._new(node.charset, [follow])
        if isinstance(node, _Seq):
            for item in reversed(node.items):
                follow = self._build(item, follow)
            return follow
        if isinstance(node, _Alt):
            return self._new(None, [self._build(branch, follow) for branch in node.branches])
        return self._build_repeat(node, follow)

    def _build_repeat(self, node: _Repeat, follow: int) -> int:
        if node.hi is None:
            loop = self._new(None, [])
            self.targets[loop].extend((self._build(node.item, loop), follow))
            entry = loop
        else:
            # x{0,3} as (?:x(?:x(?:x)?)?)?: each optional copy may skip straight to the end.
            entry = follow
            for _ in range(node.hi - node.lo):
                entry = self._new(None, [self._build(node.item, entry), follow])
        for _ in range(node.lo):
            entry = self._build(node.item, entry)
        return entry

    def closure(self, seeds: Iterable[int]) -> frozenset[int]:
        """The consuming and accepting states reachable from seeds without consuming.

        Epsilon states are left out: two sets that differ only in them behave alike, and
        leaving them out lets such sets share one DFA state."""
        charsets, targets = self.charsets, self.targets
        seen: set[int] = set()
        found: list[int] = []
        stack = list(seeds)
        while stack:
            state = stack.pop()
            if state in seen:
                continue
            seen.add(state)
            if charsets[state] is None and state != self.ACCEPT:
                stack.extend(targets[state])
            else:
                found.append(state)
        return frozenset(found)


# -- lazy DFA -----------------------------------------------------------------------------------


class _DState:
    """A DFA state: a set of NFA states and the transitions computed from it so far."""

    __slots__ = ("accepting", "classes", "literals", "next")

    def __init__(self, nfa_states: frozenset[int], nfa: _Nfa) -> None:
        self.next: dict[str, _DState] = {}
        self.accepting = nfa.ACCEPT in nfa_states
        # Single characters go in a dict, so a big alternation of literals costs one lookup.
        literals: dict[str, list[int]] = {}
        classes: list[tuple[_CharSet, int]] = []
        for state in nfa_states:
            charset = nfa.charsets[state]
            if charset is None:
                continue
            if charset.literal is not None:
                literals.setdefault(charset.literal, []).append(nfa.targets[state][0])
            else:
                classes.append((charset, nfa.targets[state][0]))
        self.literals = literals
        self.classes = tuple(classes)

    def targets_on(self, ch: str) -> frozenset[int]:
        found = list(self.literals.get(ch, ()))
        for charset, target in self.classes:
            if charset.contains(ch):
                found.append(target)
        return frozenset(found)


class _Cache:
    """One generation of DFA states; dropped whole when it grows past its bounds."""

    __slots__ = ("by_closure", "by_targets", "cells", "start")

    def __init__(self, nfa: _Nfa, dead: _DState) -> None:
        start_states = nfa.closure([nfa.start])
        self.start = _DState(start_states, nfa)
        self.by_closure: dict[frozenset[int], _DState] = {
            start_states: self.start,
            frozenset(): dead,
        }
        # The same targets always have the same closure: keying by targets skips recomputing it.
        self.by_targets: dict[frozenset[int], _DState] = {}
        self.cells = len(start_states)


class Pattern:
    """A compiled pattern; `fullmatch` runs in time linear in the length of the text."""

    __slots__ = ("_cache", "_dead", "_nfa", "_source")

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise TypeError(f"pattern source must be str, not {type(source).__name__}")
        self._source = source
        self._nfa = _Nfa(_Parser(source).parse())
        # The empty set of NFA states: no text can match from here. It never gets
        # transitions, so a match that reaches it stops at the next character.
        self._dead = _DState(frozenset(), self._nfa)
        self._cache = _Cache(self._nfa, self._dead)

    @property
    def pattern(self) -> str:
        return self._source

    def __repr__(self) -> str:
        return f"Pattern({self._source!r})"

    def fullmatch(self, text: str) -> bool:
        """True when the whole of text matches, exactly as `re.fullmatch(pattern, text)`."""
        if not isinstance(text, str):
            raise TypeError(f"fullmatch expects str, not {type(text).__name__}")
        state = self._cache.start
        dead = self._dead
        for ch in text:
            try:
                state = state.next[ch]
            except KeyError:  # try costs nothing when warm; a miss is rare
                state = self._advance(state, ch)
                if state is dead:
                    return False
        return state.accepting

    def _advance(self, state: _DState, ch: str) -> _DState:
        """Compute, cache and return the transition of state on ch."""
        if state is self._dead:
            return state
        cache = self._cache
        targets = state.targets_on(ch)
        following = cache.by_targets.get(targets)
        if following is None:
            following = self._state_for(cache, self._nfa.closure(targets))
            cache.by_targets[targets] = following
            cache.cells += len(targets)
        state.next[ch] = following
        cache.cells += 1
        if cache.cells > MAX_CACHE_CELLS or len(cache.by_closure) > MAX_DFA_STATES:
            self._reset(cache)
        return following

    def _state_for(self, cache: _Cache, nfa_states: frozenset[int]) -> _DState:
        found = cache.by_closure.get(nfa_states)
        if found is None:
            found = _DState(nfa_states, self._nfa)
            cache.by_closure[nfa_states] = found
            cache.cells += len(nfa_states) + 1
        return found

    def _reset(self, old: _Cache) -> None:
        """Start a new cache generation. Matches running on old states stay correct: those
        states still know their NFA states, and new transitions lead into the new generation."""
        self._cache = _Cache(self._nfa, self._dead)
        # Emptying the old transition dicts breaks the cycles between old states, so they are
        # freed by reference counting rather than waiting for the cycle collector. Another
        # thread may still be adding to the old generation: iterate over a copy, which dict
        # makes in one step.
        for state in old.by_closure.copy().values():
            state.next.clear()


@functools.lru_cache(maxsize=256)
def compile(source: str) -> Pattern:
    """The compiled pattern for source, shared between callers (see the module docstring)."""
    return Pattern(source)
