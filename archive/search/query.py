"""The reviewers' query language, parsed into a small immutable tree (pure: no Django).

PostgreSQL's ``websearch_to_tsquery`` is not enough for eDiscovery: it drops ``NOT`` and ignores
parentheses (shared/reference/archive-and-export.md, section 5.2), so searches are parsed here and
compiled by :mod:`archive.search.compiler`.

The language
------------
- ``merger acquisition``: both words (an implicit AND between terms).
- ``merger AND acquisition``, ``merger OR acquisition``, ``NOT confidential``. Operators are
  case-insensitive (``and``, ``Or``); to search for the word itself, quote it: ``"not"``.
- ``-confidential``: the same as ``NOT confidential``. A minus counts as NOT only at the start of a
  term and before a letter, a quote or a parenthesis, so ``-5`` and ``e-mail`` are plain terms.
- ``( ... )``: grouping.
- ``"exact phrase"``: the words next to each other, in this order.
- ``invest*``: a prefix (investing, investment, ...). At least 2 letters or digits before the
  ``*``, which may only end a term (a shorter prefix matches most of the dictionary).
- ``buy w/3 shares``: within 3 words of each other, in either order; ``buy pre/3 shares``: "buy"
  1 to 3 words *before* "shares". N is 1 to 100. Each side is a word, a prefix or a parenthesised
  OR of words and prefixes (``(buy OR sell*) w/3 shares``); phrases, NOT, AND and a second
  proximity inside one are refused (PostgreSQL's index cannot answer them exactly).
- ``from:``, ``to:``, ``body:``, ``filename:`` before a term, a phrase or a parenthesised group
  (``from:(ana OR "joão silva")``). Unscoped terms search the message text (``body:``).

Precedence, tightest first: NOT > proximity (w/N, pre/N) > AND > OR. So ``a OR b c`` is
``a OR (b AND c)`` and ``NOT a w/3 b`` is refused (a NOT cannot be one side of a proximity).

Limits: at most :data:`MAX_QUERY_LENGTH` characters. Bad input raises :class:`QueryError` with
the character position (1-based) and the piece at fault, in words a reviewer uses. Whether a
query holds only very common words ("the", "de") needs the text-search configuration, so the
compiler checks that (:func:`archive.search.compiler.compile_search`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from compliance_hub.digits import is_digits

MAX_QUERY_LENGTH = 2000
MAX_DISTANCE = 100
MIN_PREFIX = 2


class Field(StrEnum):
    BODY = "body"
    FROM = "from"
    TO = "to"
    FILENAME = "filename"


class QueryError(ValueError):
    """A search that cannot be run, with what is wrong and where (``position``: 1-based
    character, or 0 when the problem is the whole query)."""

    def __init__(self, message: str, *, position: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


# The tree. Every node is frozen; ``field`` sits on the leaves (a scope on a group is pushed
# down to each of its terms).


@dataclass(frozen=True)
class Term:
    text: str
    field: Field = Field.BODY
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    text: str
    field: Field = Field.BODY


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Near:
    """``left`` within ``distance`` words of ``right``; ``ordered``: left comes first."""

    left: Node
    right: Node
    distance: int
    ordered: bool


Node = Term | Phrase | Not | And | Or | Near

# Tokens ---------------------------------------------------------------------------------------

Kind = Literal["(", ")", "phrase", "word", "field", "and", "or", "not", "near"]


@dataclass(frozen=True)
class _Token:
    kind: Kind
    text: str
    position: int  # 1-based character
    distance: int = 0
    ordered: bool = False


_OPERATORS: dict[str, Kind] = {"and": "and", "or": "or", "not": "not"}
_NEAR = re.compile(r"(w|pre)/(\S*)", re.IGNORECASE)
_FIELD = re.compile(r"([A-Za-z]+):(?!//)(.*)", re.DOTALL)
_SPECIAL = set('()"')


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
            continue
        if char in "()":
            tokens.append(_Token(char, char, i + 1))  # type: ignore[arg-type]
            i += 1
            continue
        if char == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError(
                    f"The quote that opens at character {i + 1} is never closed.", position=i + 1
                )
            tokens.append(_Token("phrase", query[i + 1 : end], i + 1))
            i = end + 1
            continue
        if char == "-" and i + 1 < n and (query[i + 1].isalpha() or query[i + 1] in '("'):
            tokens.append(_Token("not", "-", i + 1))
            i += 1
            continue
        start = i
        while i < n and not query[i].isspace() and query[i] not in _SPECIAL:
            i += 1
        word = query[start:i]
        tokens.extend(_word_tokens(word, start + 1))
    return tokens


def _word_tokens(word: str, position: int) -> list[_Token]:
    lowered = word.lower()
    if lowered in _OPERATORS:
        return [_Token(_OPERATORS[lowered], word, position)]
    near = _NEAR.fullmatch(word)
    if near:
        name = near.group(1).lower()
        raw = near.group(2)
        if not is_digits(raw):
            raise QueryError(
                f"{word} at character {position}: put a number of words after the slash, "
                f"for example {name}/3.",
                position=position,
            )
        distance = int(raw)
        if not 1 <= distance <= MAX_DISTANCE:
            raise QueryError(
                f"{word} at character {position}: the distance must be 1 to {MAX_DISTANCE}.",
                position=position,
            )
        return [_Token("near", word, position, distance=distance, ordered=name == "pre")]
    field = _FIELD.fullmatch(word)
    if field:
        name, rest = field.group(1), field.group(2)
        if name.lower() not in {f.value for f in Field}:
            raise QueryError(
                f"'{name}:' at character {position} is not a field we know: use from:, to:, "
                f"body: or filename:. To search for the text itself, put it in quotes.",
                position=position,
            )
        tokens = [_Token("field", name.lower(), position)]
        if rest[:1] == "-" and rest[1:2].isalpha():
            tokens.append(_Token("not", "-", position + len(name) + 1))
        elif rest:
            tokens.append(_Token("word", rest, position + len(name) + 1))
        return tokens
    return [_Token("word", word, position)]


# Parser ---------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.scope: Field | None = None  # the field of the group being parsed, if any

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.or_expr()
        token = self.peek()
        if token is not None:
            # Only a stray closing parenthesis stops or_expr before the end.
            raise QueryError(
                f"The parenthesis at character {token.position} closes nothing.",
                position=token.position,
            )
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            self._operand_follows(token)
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.near_expr()]
        while (token := self.peek()) is not None and token.kind not in {"or", ")"}:
            if token.kind == "and":
                self.take()
                self._operand_follows(token)
            operands.append(self.near_expr())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def near_expr(self) -> Node:
        left = self.unary()
        token = self.peek()
        if token is None or token.kind != "near":
            return left
        self.take()
        self._operand_follows(token)
        right = self.unary()
        following = self.peek()
        if following is not None and following.kind == "near":
            raise QueryError(
                f"{following.text} at character {following.position}: one proximity per "
                f"group; join two proximity searches with AND.",
                position=following.position,
            )
        for side in (left, right):
            _check_near_side(side, token)
        if len(_fields_of(left) | _fields_of(right)) > 1:
            raise QueryError(
                f"{token.text} at character {token.position} joins two different fields.",
                position=token.position,
            )
        return Near(left, right, token.distance, token.ordered)

    def unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise QueryError("The search ends where a term was expected.")
        if token.kind == "not":
            self.take()
            self._operand_follows(token)
            return Not(self.unary())
        if token.kind == "field":
            self.take()
            following = self.peek()
            if following is None or following.kind in {"and", "or", "near", ")"}:
                raise QueryError(
                    f"{token.text}: at character {token.position} has no term after it.",
                    position=token.position,
                )
            if following.kind in {"field", "not"}:
                raise QueryError(
                    f"{token.text}: at character {token.position} must be followed by a term, "
                    f"a phrase or a group in parentheses.",
                    position=token.position,
                )
            field = Field(token.text)
            if self.scope is not None and self.scope != field:
                raise QueryError(
                    f"{token.text}: at character {token.position} is inside a "
                    f"{self.scope.value}: group; a term has one field.",
                    position=token.position,
                )
            outer, self.scope = self.scope, field
            try:
                return self.unary()
            finally:
                self.scope = outer
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "(":
            closing = self.peek()
            if closing is None:
                raise QueryError(
                    f"The parenthesis that opens at character {token.position} is never closed.",
                    position=token.position,
                )
            if closing.kind == ")":
                raise QueryError(
                    f"The parentheses at character {token.position} hold nothing.",
                    position=token.position,
                )
            node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise QueryError(
                    f"The parenthesis that opens at character {token.position} is never closed.",
                    position=token.position,
                )
            self.take()
            return node
        if token.kind == "phrase":
            if not any(c.isalnum() for c in token.text):
                raise QueryError(
                    f"The quotes at character {token.position} hold no words.",
                    position=token.position,
                )
            return Phrase(" ".join(token.text.split()), self.scope or Field.BODY)
        if token.kind == "word":
            return _term(token, self.scope or Field.BODY)
        if token.kind == ")":
            raise QueryError(
                f"The parenthesis at character {token.position} closes nothing.",
                position=token.position,
            )
        # An operator where a term should be.
        raise QueryError(
            f"{token.text} at character {token.position} has nothing before it.",
            position=token.position,
        )

    def _operand_follows(self, operator: _Token) -> None:
        token = self.peek()
        if token is None or token.kind in {"and", "or", "near", ")"}:
            raise QueryError(
                f"{operator.text} at character {operator.position} has nothing after it.",
                position=operator.position,
            )


def _term(token: _Token, field: Field) -> Term:
    text = token.text
    star = text.find("*")
    if star < 0:
        return Term(text, field)
    if star != len(text) - 1:
        raise QueryError(
            f"'{text}' at character {token.position}: a wildcard * may only end a term.",
            position=token.position,
        )
    stem = text[:-1]
    if sum(c.isalnum() for c in stem) < MIN_PREFIX:
        raise QueryError(
            f"'{text}' at character {token.position}: a wildcard needs at least {MIN_PREFIX} "
            f"letters before it.",
            position=token.position,
        )
    return Term(stem, field, prefix=True)


def _check_near_side(side: Node, token: _Token) -> None:
    allowed = isinstance(side, Term) or (
        isinstance(side, Or) and all(isinstance(o, Term) for o in side.operands)
    )
    if not allowed:
        raise QueryError(
            f"{token.text} at character {token.position} can join words, prefixes or a "
            f"group of them joined by OR, such as (buy OR sell) {token.text} shares; "
            f"not phrases, NOT, AND or another proximity.",
            position=token.position,
        )


def _fields_of(node: Node) -> set[Field]:
    return {leaf.field for leaf in leaves(node)}


def parse(query: str) -> Node:
    """The tree of ``query``, or :class:`QueryError` saying what is wrong and where."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"This search is {len(query):,} characters long; the limit is "
            f"{MAX_QUERY_LENGTH:,}. Split it into several searches."
        )
    tokens = _tokens(query)
    if not tokens:
        raise QueryError("The search is empty: type at least one word.")
    return _Parser(tokens).parse()


def leaves(node: Node) -> list[Term | Phrase]:
    """Every term and phrase of ``node``, left to right."""
    match node:
        case Term() | Phrase():
            return [node]
        case Not(operand):
            return leaves(operand)
        case And(operands) | Or(operands):
            return [leaf for o in operands for leaf in leaves(o)]
        case Near(left, right):
            return leaves(left) + leaves(right)
    raise AssertionError(node)  # pragma: no cover
