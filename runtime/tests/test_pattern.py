"""Tests of draftsman_runtime.pattern: every accepted pattern matches exactly what re.fullmatch
matches, everything else is refused with a PatternError that says what and where.

PATTERN_EXAMPLES sets the number of hypothesis examples of the differential tests (500 by
default). Performance is measured by bench/patterns.py, never here.
"""

from __future__ import annotations

import os
import pickle
import random
import re
import sys
import threading
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from draftsman_runtime import pattern as pattern_module
from draftsman_runtime.pattern import Pattern, PatternError, compile

EXAMPLES = int(os.environ.get("PATTERN_EXAMPLES", "500"))
DIFFERENTIAL = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def re_compile(source: str) -> re.Pattern[str] | None:
    """re's compiled pattern, or None when re refuses it (re's FutureWarnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return re.compile(source)
        except (re.error, OverflowError, RecursionError):
            return None


def assert_same(source: str, texts: list[str]) -> None:
    expected = re_compile(source)
    assert expected is not None, f"re refuses {source!r}"
    ours = Pattern(source)
    for text in texts:
        want = expected.fullmatch(text) is not None
        assert ours.fullmatch(text) == want, f"{source!r} on {text!r}: re says {want}"


# -- accepted constructs, each compared with re -------------------------------------------------

TEXTS = ["", "a", "b", "ab", "ba", "aa", "aaa", "abab", "-", ".", "\n", "a\n", "{", "}", "_", " "]

CONSTRUCTS = [
    # literals and escapes
    ("abc", ["abc", "ab", "abcd", "ABC"]),
    ("", ["", "a"]),
    (r"a\.b", ["a.b", "axb"]),
    (r"\\\-\/\{\}\(\)\[\]\*\+\?\|\^\$\,\ \#\~\"", ['\\-/{}()[]*+?|^$, #~"']),
    (r"\t\n\r\f\v\a", ["\t\n\r\f\v\a", "tnrfva"]),
    (r"\x41\x7e\u00e9\U0001F600", ["A~\u00e9\U0001f600", "A~e?"]),
    (r"\N{EM DASH}\N{LATIN SMALL LETTER E WITH ACUTE}", ["\u2014\u00e9", "-e"]),
    (r"\0\07\101\1010", ["\0\x07AA0", "\0\x07A"]),
    ("\u00e9\u4e2d\U0001f600", ["\u00e9\u4e2d\U0001f600", "e"]),
    (r"\é\_", ["é_"]),
    # categories and dot
    (r"\d\D\w\W\s\S", ["1a_ \t\u00e9", "1a_ \t", "\u0661-\u00e9!\u2003x"]),
    (r"\d+", ["0123456789", "\u0660\u0669", "\u00b2", "1a", ""]),
    (r"\w+", ["abc_\u00e9\u4e2d1", "a-b", "\u00b2\u2160"]),
    (r"\s+", [" \t\n\r\f\v\x1c\x85\u2003\u3000", "\u200b"]),
    (".", ["a", "\n", "\r", "\u2028", "", "ab"]),
    (".*", ["", "abc", "a\nb", "\r\x00"]),
    # classes
    ("[abc]", ["a", "c", "d", "", "ab"]),
    ("[^abc]", ["d", "a", "\n", ""]),
    ("[a-c0-2]+", ["abc012", "d", "3"]),
    ("[]a]+", ["]a]", "a", "b"]),
    ("[^]a]", ["b", "]", "a", "\n"]),
    ("[-a]", ["-", "a", "b"]),
    ("[a-]", ["-", "a", "b"]),
    ("[^-]", ["-", "a"]),
    ("[a-a]", ["a", "b"]),
    (r"[\d-]", ["-", "5", "a"]),
    (r"[\w.\-]+", ["a.b-c_1", "a b"]),
    (r"[\s\S]", ["\n", "a", " "]),
    (r"[^\d\s]", ["a", "1", " ", "\n"]),
    (r"[\D]", ["a", "1"]),
    (r"[\W]", ["-", "a"]),
    (r"[\]\\\-]", ["]", "\\", "-", "a"]),
    (r"[\b]", ["\b", "b"]),
    (r"[\x41-\x43\u00e0-\u00e5]", ["B", "\u00e3", "D"]),
    (r"[\101-\103]", ["B", "D"]),
    (r"[\N{EM DASH}]", ["\u2014", "-"]),
    ("[.*+?(){}|^$]+", [".*+?(){}|^$", "a"]),
    ("[[]", ["[", "]"]),
    ("[a^]", ["^", "a"]),
    (r"[--/]", ["-", ".", "/", "0"]),
    ("[\u00e9-\u00f6]", ["\u00ea", "e"]),
    # groups
    ("(ab)+", ["ab", "abab", "aba", ""]),
    ("(?:ab)+", ["ab", "abab", "aba"]),
    ("(?P<word>ab)(?P<other>c)", ["abc", "ab"]),
    ("()", ["", "a"]),
    ("(?:)", ["", "a"]),
    ("((a)(b(c)))", ["abc", "ab"]),
    # alternation
    ("a|b", ["a", "b", "ab", ""]),
    ("a|", ["a", "", "b"]),
    ("|a", ["a", "", "b"]),
    ("|", ["", "a"]),
    ("a||b", ["a", "", "b"]),
    ("(a|b|)c", ["ac", "bc", "c", "abc"]),
    ("abc|abd|ab", ["abc", "abd", "ab", "a"]),
    ("(?:EUR|USD|GBP|JPY)", ["EUR", "USD", "GBP", "JPY", "CHF", "EU"]),
    # quantifiers
    ("a*", ["", "a", "aaa", "b"]),
    ("a+", ["", "a", "aaa"]),
    ("a?", ["", "a", "aa"]),
    ("a{3}", ["aa", "aaa", "aaaa"]),
    ("a{2,}", ["a", "aa", "aaaaa"]),
    ("a{,2}", ["", "a", "aa", "aaa"]),
    ("a{1,3}", ["", "a", "aaa", "aaaa"]),
    ("a{,}", ["", "a", "aaaa"]),
    ("a{0}", ["", "a"]),
    ("a{0,0}b", ["b", "ab"]),
    ("a*?", ["", "aaa"]),
    ("a+?", ["", "a", "aa"]),
    ("a??", ["", "a", "aa"]),
    ("a{2}?", ["aa", "aaa"]),
    ("a{2,}?", ["a", "aa", "aaa"]),
    ("a{,2}?", ["", "aa", "aaa"]),
    ("a{1,2}?b", ["ab", "aab", "b"]),
    ("(?:ab){2}", ["abab", "ab"]),
    ("(a|b){2,3}", ["ab", "aba", "abab", "a"]),
    ("(a*)*", ["", "aaa", "b"]),
    ("(a*)+b", ["b", "aab"]),
    ("(a?)+?b", ["b", "ab", "aab"]),
    ("(?:a|b)*a(?:a|b){2}", ["aab", "abab", "bbb", "a"]),
    ("[A-Z]{2}[0-9]{2}[A-Z0-9]{4,30}", ["GB82WEST1234", "GB82WES", "gb82west1234"]),
    # a "{" that forms no quantifier is a literal, as in re
    ("a{", ["a{", "a"]),
    ("{", ["{"]),
    ("{}", ["{}"]),
    ("a{}", ["a{}"]),
    ("a{1", ["a{1"]),
    ("a{1,", ["a{1,"]),
    ("a{1,2", ["a{1,2"]),
    ("a{x}", ["a{x}"]),
    ("a{ 1}", ["a{ 1}"]),
    ("a{1 }", ["a{1 }"]),
    ("a{-1}", ["a{-1}"]),
    ("x{a}{2}", ["x{a}}", "x{a}"]),
    ("a{,", ["a{,"]),
    ("}", ["}"]),
    ("a}", ["a}"]),
    ("]", ["]"]),
    ("a{{2}", ["a{{", "a{"]),
    # anchors at the ends
    ("^abc", ["abc", "xabc"]),
    ("abc$", ["abc", "abc\n"]),
    ("^abc$", ["abc", "abc\n"]),
    ("^", ["", "a"]),
    ("$", ["", "\n"]),
    ("^$", ["", "\n"]),
    ("^a|b$", ["a", "b", "ab"]),
    ("a|$", ["a", "", "\n"]),
    (r"a\$", ["a$", "a"]),
    (r"\\$", ["\\", "\\$"]),
    (r"\^a", ["^a", "a"]),
    ("^{", ["{"]),
]


@pytest.mark.parametrize(("source", "texts"), CONSTRUCTS)
def test_construct_matches_like_re(source: str, texts: list[str]) -> None:
    assert_same(source, texts + TEXTS)


def test_pattern_property_and_repr() -> None:
    pattern = Pattern("[a-z]+")
    assert pattern.pattern == "[a-z]+"
    assert repr(pattern) == "Pattern('[a-z]+')"


def test_compile_is_cached() -> None:
    assert compile("(ab)+") is compile("(ab)+")
    assert compile("(ab)+").fullmatch("abab")


def test_compile_does_not_cache_errors() -> None:
    for _ in range(2):
        with pytest.raises(PatternError):
            compile("(")


def test_text_must_be_str() -> None:
    with pytest.raises(TypeError):
        Pattern("a").fullmatch(b"a")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Pattern(b"a")  # type: ignore[arg-type]


def test_repeated_calls_agree() -> None:
    # The same pattern object answers many texts in turn, from a cache built by earlier ones.
    pattern = Pattern(r"[A-Z]{2}\d{2}[A-Z0-9]{4,30}")
    expected = re.compile(pattern.pattern)
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice("AB12x") for _ in range(rng.randint(0, 14)))
        assert pattern.fullmatch(text) == (expected.fullmatch(text) is not None), text


# -- refused patterns ---------------------------------------------------------------------------

UNSUPPORTED = [
    # (pattern, words the message must contain, position)
    (r"(a)\1", "backreference", 3),
    (r"(a)(b)\2", "backreference", 6),
    ("(?P<n>a)(?P=n)", "backreference", 8),
    ("a(?=b)", "lookahead", 1),
    ("a(?!b)", "negative lookahead", 1),
    ("(?<=a)b", "lookbehind", 0),
    ("(?<!a)b", "negative lookbehind", 0),
    ("(?i)abc", "inline flags", 0),
    ("a(?x: b)", "inline flags", 1),
    ("(?-i:a)", "inline flags", 0),
    ("(?s).", "inline flags", 0),
    ("(?>ab)", "atomic group", 0),
    ("a*+", "possessive quantifier", 1),
    ("a++", "possessive quantifier", 1),
    ("ab?+", "possessive quantifier", 2),
    ("a{1,2}+", "possessive quantifier", 1),
    ("(a)(?(1)b|c)", "conditional group", 3),
    ("a(?#note)", "comment group", 1),
    (r"\bab", "\\b (word boundary)", 0),
    (r"a\B", "\\B (non-boundary)", 1),
    (r"\Aa", "\\A (start of string)", 0),
    (r"a\Z", "\\Z (end of string)", 1),
    (r"a\G", "bad escape \\G", 1),
    ("a^b", "anchor ^", 1),
    ("(^a)", "anchor ^", 1),
    ("a$b", "anchor $", 1),
    ("(a$)", "anchor $", 2),
    ("a{1001}", "pattern too large", 1),
    ("a{2,5000}", "pattern too large", 1),
    ("(?:a{1000}){1000}", "pattern too large", 11),
    ("(?:a{1000}b{1000}){11}", "pattern too large", 18),
    ("x" * 20_001, "pattern too large", 20_000),
    ("(" * 65 + ")" * 65, "too deeply nested", 64),
]


@pytest.mark.parametrize(("source", "words", "position"), UNSUPPORTED)
def test_unsupported_construct_is_refused(source: str, words: str, position: int) -> None:
    with pytest.raises(PatternError) as caught:
        Pattern(source)
    assert words in caught.value.message
    assert caught.value.position == position


SYNTAX_ERRORS = [
    # re's own errors: same message and position as re
    "*a",
    "a**",
    "a*?*",
    "a{2}{3}",
    "a|*",
    "(*)",
    "^*",
    "{2}",
    "a{3,2}",
    "(a",
    "((a)",
    "a)",
    "a(b))",
    "[a",
    "[]",
    "[^]",
    "[a-",
    "[z-a]",
    r"[\d-z]",
    r"[a-\w]",
    r"[\x41-\x40]",
    "\\",
    "a\\",
    r"\q",
    r"\x4",
    r"\xg0",
    r"\u12",
    r"\U0011ffff",
    r"\N",
    r"\N{",
    r"\N{}",
    r"\N{EM DASH",
    r"\N{NO SUCH CHARACTER}",
    r"[\8]",
    r"[\q]",
    r"[\A]",
    r"\400",
    r"[\400]",
    "(?",
    "(?P",
    "(?Px)",
    "(?<",
    "(?<x)",
    "(?~)",
    "(?P<>a)",
    "(?P<1>a)",
    "(?P<a-b>a)",
    "(?P<a",
    "(?P<a>x)(?P<a>y)",
]


@pytest.mark.parametrize("source", SYNTAX_ERRORS)
def test_syntax_error_is_reported_like_re(source: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(re.error) as expected:
            re.compile(source)
    with pytest.raises(PatternError) as caught:
        Pattern(source)
    assert (caught.value.message, caught.value.position) == (expected.value.msg, expected.value.pos)


def test_pattern_error_shape() -> None:
    error = PatternError("lookahead is not supported", 3)
    assert isinstance(error, ValueError)
    assert str(error) == "lookahead is not supported at position 3"
    assert (error.message, error.position) == ("lookahead is not supported", 3)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.position, str(copy)) == (error.message, error.position, str(error))


# -- Unicode categories -------------------------------------------------------------------------

ALL_CHARACTERS = "".join(map(chr, range(sys.maxunicode + 1)))
CATEGORY_PATTERNS = [r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", "."]


@pytest.mark.parametrize("letter", ["d", "D", "w", "W", "s", "S"])
def test_category_predicate_agrees_with_re_on_every_code_point(letter: str) -> None:
    # Both sides list the members in code point order, so equal strings mean equal sets.
    predicate = pattern_module._CATEGORIES[letter]
    expected = "".join(re.findall("\\" + letter, ALL_CHARACTERS))
    assert "".join(filter(predicate, ALL_CHARACTERS)) == expected


@pytest.mark.parametrize("source", CATEGORY_PATTERNS)
def test_category_patterns_agree_with_re_where_re_changes(source: str) -> None:
    # Through the public API, at every code point where re's answer changes from the one of
    # the previous code point, and just before it: the ranges and predicates meet there.
    runs = re.finditer(f"(?:{source})+", ALL_CHARACTERS)
    edges = {edge for run in runs for edge in (run.start(), run.end())}
    probes = {0, sys.maxunicode} | {code + step for code in edges for step in (-1, 0)}
    probes = {code for code in probes if 0 <= code <= sys.maxunicode}
    members = {chr(code) for code in probes if re.fullmatch(source, chr(code))}
    variants = [(source, False)] + ([(f"[^{source}]", True)] if source != "." else [])
    for variant, negated in variants:
        ours = Pattern(variant)
        for code in probes:
            want = (chr(code) in members) != negated
            assert ours.fullmatch(chr(code)) == want, (source, negated, hex(code))


def test_unicode_letters_in_ranges() -> None:
    assert_same("[\u0100-\U0001f600]+", ["\u0100\U0001f5ff", "\u00ff", "\U0001f601"])
    assert_same("[^\u0000-\uffff]", ["\U00010000", "\uffff"])


# -- differential tests against re --------------------------------------------------------------

LITERALS = ["a", "b", "-", "]", "}", "{", ",", "_", " ", "0", "\\.", "\\-", "\\\\", "\\n"]
LITERALS += ["\\x61", "\\u0062", "\\t", "\\{", "\\]", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S"]
LITERALS += [".", "\\101", "\\0"]
CLASS_MEMBERS = ["a", "b", ".", "a-b", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S", "\\]", "\\\\"]
CLASS_MEMBERS += ["\\-", "\\n", "\\x2d", "--.", "^", "_", "{", "\\b", "0-9", " "]
QUANTIFIERS = ["*", "+", "?", "{2}", "{0}", "{1,}", "{,2}", "{1,3}", "{,}", "{0,1}", "{2,2}"]


@st.composite
def char_classes(draw: st.DrawFn) -> str:
    negated = draw(st.sampled_from(["", "^"]))
    head = draw(st.sampled_from(["", "]", "-"]))
    members = draw(st.lists(st.sampled_from(CLASS_MEMBERS), min_size=0 if head else 1, max_size=3))
    tail = draw(st.sampled_from(["", "-"]))
    return f"[{negated}{head}{''.join(members)}{tail}]"


ATOMS = st.one_of(st.sampled_from(LITERALS), char_classes())


def quantified(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # Only an atom or a group gets a quantifier: "a*" followed by "+" would be possessive.
    group = st.sampled_from(["(", "(?:", "(?P<x>", "(?P<y>"])
    wrapped = st.one_of(ATOMS, st.builds(lambda g, body: f"{g}{body})", group, inner))
    lazy = st.sampled_from(["", "", "?"])
    return st.builds(lambda body, q, z: body + q + z, wrapped, st.sampled_from(QUANTIFIERS), lazy)


def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    group = st.sampled_from(["(", "(?:", "(?P<x>", "(?P<y>", "(?P<z>"])
    return st.one_of(
        st.lists(inner, min_size=2, max_size=4).map("".join),
        st.lists(inner | st.just(""), min_size=2, max_size=3).map("|".join),
        st.builds(lambda g, body: f"{g}{body})", group, inner),
        quantified(inner),
    )


GRAMMAR = st.recursive(ATOMS, extend, max_leaves=10)
PATTERNS = st.builds(
    lambda start, body, end: start + body + end,
    st.sampled_from(["", "", "^"]),
    GRAMMAR,
    st.sampled_from(["", "", "$"]),
)
TEXT_ALPHABET = "ab-.]{}_ 0\n\\A\u00e9\u0661\t"
TEXTS_STRATEGY = st.lists(st.text(alphabet=TEXT_ALPHABET, max_size=10), min_size=1, max_size=8)


def matching_texts(expected: re.Pattern[str], rng: random.Random) -> list[str]:
    """Texts that re accepts, found by trying many short strings: random texts rarely match."""
    found = []
    for _ in range(200):
        text = "".join(rng.choice("ab-.0_ ") for _ in range(rng.randint(0, 8)))
        if expected.fullmatch(text):
            found.append(text)
    return found


@DIFFERENTIAL
@given(source=PATTERNS, texts=TEXTS_STRATEGY, seed=st.integers(0, 2**32))
def test_grammar_patterns_match_like_re(source: str, texts: list[str], seed: int) -> None:
    expected = re_compile(source)
    if expected is None:
        # Concatenation can form re errors, such as "a*" followed by "{2}": we refuse them too.
        with pytest.raises(PatternError):
            Pattern(source)
        return
    ours = Pattern(source)
    for text in texts + matching_texts(expected, random.Random(seed)):
        want = expected.fullmatch(text) is not None
        assert ours.fullmatch(text) == want, f"{source!r} on {text!r}: re says {want}"


SOUP = "ab()|*+?{}[]^$\\,012-.:=!<>#PdwsDWSbBAZxuN"


@DIFFERENTIAL
@given(source=st.text(alphabet=SOUP, max_size=12), texts=TEXTS_STRATEGY)
def test_random_sources_are_refused_or_match_like_re(source: str, texts: list[str]) -> None:
    try:
        ours = Pattern(source)
    except PatternError:
        return
    expected = re_compile(source)
    assert expected is not None, f"accepted {source!r}, which re refuses"
    for text in texts:
        want = expected.fullmatch(text) is not None
        assert ours.fullmatch(text) == want, f"{source!r} on {text!r}: re says {want}"


@DIFFERENTIAL
@given(source=st.text(alphabet=SOUP, max_size=12))
def test_re_syntax_errors_are_refused(source: str) -> None:
    assume(re_compile(source) is None)
    with pytest.raises(PatternError):
        Pattern(source)


# -- pathological patterns: linear time, right answers ------------------------------------------

N = 10_000
PATHOLOGICAL = [
    ("(a*)*b", "a" * N, False),
    ("(a*)*b", "a" * (N - 1) + "b", True),
    ("(a|aa)*c", "a" * N, False),
    ("(a|aa)*c", "a" * (N - 1) + "c", True),
    ("(?:[A-Z]|[A-Z]{2})*X", "A" * N, False),
    ("(?:[A-Z]|[A-Z]{2})*X", "A" * (N - 1) + "X", True),
    (r"(\w+\s?)*$", "ab " * (N // 3), True),
    (r"(\w+\s?)*$", "ab " * (N // 3) + "!", False),
    ("(.*a){20}", "a" * N, True),
    ("(.*a){20}", "a" * N + "b", False),
    ("(.*a){20}", "ab" * 19 + "b" * N, False),
    ("(?:a?){1000}a{1000}", "a" * 1000, True),
    ("(?:a?){1000}a{1000}", "a" * 2001, False),
]


@pytest.mark.parametrize(("source", "text", "expected"), PATHOLOGICAL)
def test_pathological_pattern_answers(source: str, text: str, expected: bool) -> None:
    assert Pattern(source).fullmatch(text) is expected


# -- the bounded DFA cache ----------------------------------------------------------------------


def test_cache_stays_bounded_and_correct() -> None:
    # [ab]*a[ab]{14} has 2**15 DFA states: more than the cache keeps, so it is rebuilt while
    # matching, and the answers stay those of re.
    source = "[ab]*a[ab]{14}"
    ours, expected = Pattern(source), re.compile(source)
    rng = random.Random(1)
    for tail in ("a" + "b" * 14, "b" * 15):
        for _ in range(2):
            text = "".join(rng.choice("ab") for _ in range(15_000)) + tail
            assert ours.fullmatch(text) == (expected.fullmatch(text) is not None)
            cache = ours._cache
            assert len(cache.by_closure) <= pattern_module.MAX_DFA_STATES + 1
            # One transition may add a DFA state and its target set past the bound.
            assert cache.cells <= pattern_module.MAX_CACHE_CELLS + 100


def test_many_distinct_characters() -> None:
    # Each new character is a new transition; past the cache bound the cache is rebuilt.
    text = "".join(map(chr, range(0x4E00, 0x4E00 + 210_000)))
    pattern = Pattern(".*")
    assert pattern.fullmatch(text)
    assert not pattern.fullmatch(text + "\n")


def test_threads_share_a_pattern() -> None:
    source = "[ab]*a[ab]{13}"  # 2**14 DFA states: the threads also go through cache resets
    ours, expected = Pattern(source), re.compile(source)
    rng = random.Random(2)
    texts = ["".join(rng.choice("ab") for _ in range(rng.randint(0, 2000))) for _ in range(30)]
    wanted = [expected.fullmatch(text) is not None for text in texts]
    failures: list[str] = []

    def work() -> None:
        try:
            for _ in range(2):
                for text, want in zip(texts, wanted, strict=True):
                    if ours.fullmatch(text) != want:
                        failures.append(text)
        except Exception as error:  # noqa: BLE001 - a thread's exception would go unnoticed
            failures.append(repr(error))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
