"""Regular expressions an officer types, checked before they ever meet a message.

Python's `re` backtracks, so a pattern such as `(a+)+$` can take minutes on one message of thirty
characters (ReDoS). `pattern_problem` parses the pattern with the standard library's own parser
and refuses the shapes that do that: nested unbounded repeats (`(a+)+`), a repeat inside an
unbounded repeat (`(a{1,5})*`), alternatives that can match the same text inside a repeat
(`(a|ab)*`), backreferences, more than three unbounded repeats (`.*a.*b.*c.*d` is polynomial on
long messages), repeat bounds over 1000, and patterns longer than 300 characters. It is
conservative on purpose: a refused pattern says why, and the officer rewrites it.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Literal

with warnings.catch_warnings():
    # The stdlib's own regex parser: the only way to see a pattern's structure without writing
    # a parser. Deprecated as a module name since 3.11, but typed and still shipped.
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants
    import sre_parse

MAX_PATTERN_LENGTH = 300
MAX_REPEAT_BOUND = 1_000
MAX_UNBOUNDED_REPEATS = 3


def pattern_problem(pattern: str) -> str | None:
    """Why a regular expression is refused (None when it is safe to run on every message).

    Python's `re` backtracks, so a pattern an officer types could take minutes on one message;
    the parsed pattern is checked for the shapes that do that (see the module docstring).
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"a pattern has at most {MAX_PATTERN_LENGTH} characters"
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
    except re.error as error:
        return f"is not a valid regular expression ({error})"
    except (RecursionError, OverflowError):
        return "is too deeply nested"
    counter = [0]
    problem = _tree_problem(parsed, None, counter)
    if problem is None and counter[0] > MAX_UNBOUNDED_REPEATS:
        problem = (
            f"has {counter[0]} unbounded repeats (+, *, {{n,}}); at most "
            f"{MAX_UNBOUNDED_REPEATS}, as several in a row can take very long on long messages"
        )
    return problem


_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_REPEATS.add(sre_constants.POSSESSIVE_REPEAT)
_BACKREFERENCES = {
    sre_constants.GROUPREF,
    sre_constants.GROUPREF_EXISTS,
    sre_constants.GROUPREF_IGNORE,
    sre_constants.GROUPREF_LOC_IGNORE,
    sre_constants.GROUPREF_UNI_IGNORE,
}


def _tree_problem(
    tree: sre_parse.SubPattern, outer: Literal["bounded", "unbounded"] | None, counter: list[int]
) -> str | None:
    """Walk a parsed pattern; `outer` is the kind of repeat (max > 1) we are inside, if any."""
    for op, value in tree.data:
        av: Any = value
        if op in _BACKREFERENCES:
            return "uses a backreference (\\1, (?P=name)), which can take exponential time"
        if op in _REPEATS:
            _low, high, body = av
            unbounded = high == sre_constants.MAXREPEAT
            if not unbounded and high > MAX_REPEAT_BOUND:
                return f"repeats up to {high} times; at most {MAX_REPEAT_BOUND}"
            if unbounded:
                counter[0] += 1
            inner = outer
            if high > 1:  # `?` repeats nothing: it is transparent
                if outer == "unbounded" or (outer == "bounded" and unbounded):
                    return (
                        "repeats a group that itself repeats, as in (a+)+, which can take "
                        "exponential time; repeat the inner part only"
                    )
                inner = "unbounded" if unbounded else "bounded"
            problem = _tree_problem(body, inner, counter)
            if problem:
                return problem
        elif op is sre_constants.BRANCH:
            _, branches = av
            if outer is not None and _alternatives_overlap(branches):
                return (
                    "repeats a choice of alternatives that can match the same text, as in "
                    "(a|ab)*, which can take exponential time"
                )
            for branch in branches:
                problem = _tree_problem(branch, outer, counter)
                if problem:
                    return problem
        elif op is sre_constants.SUBPATTERN:
            problem = _tree_problem(av[-1], outer, counter)
            if problem:
                return problem
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            problem = _tree_problem(av[1], outer, counter)
            if problem:
                return problem
        elif op is sre_constants.ATOMIC_GROUP:
            problem = _tree_problem(av, outer, counter)
            if problem:
                return problem
    return None


def _alternatives_overlap(branches: list[sre_parse.SubPattern]) -> bool:
    """True unless every alternative starts with its own literal character."""
    firsts: set[int] = set()
    for branch in branches:
        if not branch.data or branch.data[0][0] is not sre_constants.LITERAL:
            return True
        first = branch.data[0][1]
        if not isinstance(first, int) or first in firsts:
            return True
        firsts.add(first)
    return False
