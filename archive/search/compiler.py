"""A parsed search (archive/search/query.py) as a SQL condition (pure: no Django).

The words of a search reach PostgreSQL as lexemes, never as SQL: the selector first asks the
database how each word is indexed (``ch_search_vector``, the function that built the stored
vectors, so both sides fold and stem alike) and hands that :class:`Lexicon` to
:func:`compile_search`, which writes tsquery text with every lexeme quoted (a ``'``, ``\\``,
``:``, ``&``, ``|``, ``!`` or ``<`` in a word stays part of the word) and passes each tsquery as
a query parameter.

Meaning, as the tests' brute-force evaluator checks it:
- a word matches a position holding any of its lexemes (the folded word or one of its stems);
  a word the parser splits (``e-mail``, ``10:30``) is a phrase of its parts;
- a prefix matches any lexeme that starts with the folded prefix;
- ``a w/N b``: a at position p and b at q with 1 <= |q - p| <= N; ``pre/N``: 1 <= q - p <= N.
  PostgreSQL's ``<k>`` means *exactly* k apart, so each is expanded into its N (or 2N)
  alternatives. Measured (bench/archive_search.py, ``buy w/5 shares`` over the whole tenant,
  no filter): at 100,000 messages expanded 320 ms against 335 ms for ``buy & shares`` plus a
  check of positions in Python over the candidates; at 1,000,000, 1.6 to 2.8 s against 1.0 to
  2.0 s (14,335 candidates; two runs on the shared machine). Post-filtering wins only on
  unfiltered searches with many candidates, and then must fetch every candidate to count
  exactly and to cut a keyset page; the expansion keeps
  count, filters and page in one SQL condition (36 to 46 ms p50 with a month and an employee at
  1,000,000), so it is what the compiler writes;
- body terms look at one version of the message (the original or an edit: the selector runs
  the condition once per version); ``from:``/``to:`` at the sender's/recipient's name and
  number; ``filename:`` at the attachments: each filename term holds when *some* attachment's
  name matches it;
- NOT is a SQL NOT (or a tsquery ``!`` inside one field), never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .query import And, Field, Near, Node, Not, Or, Phrase, QueryError, Term, leaves

# What a word is to the index: (position relative to the first token, its lexemes) per token.
Tokens = tuple[tuple[int, frozenset[str]], ...]


@dataclass(frozen=True)
class Lexicon:
    """How the database indexes the words of one search (see the selector)."""

    words: Mapping[str, Tokens]
    prefixes: Mapping[str, tuple[str, ...]]  # the folded, unstemmed tokens of a prefix
    # Stop words of Portuguese, Spanish or English ("the", "de", "que"): indexed (so phrases
    # hold them) but a search of nothing else would match most of the archive.
    common: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Columns:
    """SQL for what each field looks at. ``filename`` holds one ``%s`` for a tsquery."""

    body: str
    sender: str
    recipient: str
    filename: str


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple[str, ...]


def filename_words(text: str) -> str:
    """A file name as the index reads it: dots, underscores and hyphens separate words
    (the stored column applies the same regexp_replace)."""
    return re.sub(r"[._-]+", " ", text)


def lexicon_keys(node: Node) -> tuple[set[str], set[str]]:
    """The texts whose lexemes :func:`compile_search` needs: (words and phrases, prefixes)."""
    words: set[str] = set()
    prefixes: set[str] = set()
    for leaf in leaves(node):
        key = _key(leaf)
        if isinstance(leaf, Term) and leaf.prefix:
            prefixes.add(key)
        else:
            words.add(key)
    return words, prefixes


def _key(leaf: Term | Phrase) -> str:
    return filename_words(leaf.text) if leaf.field == Field.FILENAME else leaf.text


def quote_lexeme(lexeme: str) -> str:
    """A lexeme as tsquery input reads it back unchanged."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


class _Compiler:
    def __init__(self, lexicon: Lexicon, columns: Columns) -> None:
        self.lexicon = lexicon
        self.columns = columns

    # tsquery text ------------------------------------------------------------------------

    def tokens(self, leaf: Term | Phrase) -> Tokens:
        key = _key(leaf)
        if isinstance(leaf, Term) and leaf.prefix:
            found = self.lexicon.prefixes.get(key, ())
            if len(found) != 1:
                raise QueryError(
                    f"'{leaf.text}*': a wildcard works on one word of letters or digits."
                )
            return ((0, frozenset({found[0]})),)
        tokens = self.lexicon.words.get(key, ())
        if not tokens:
            shown = f'"{leaf.text}"' if isinstance(leaf, Phrase) else f"'{leaf.text}'"
            raise QueryError(f"{shown} holds nothing to search for: use letters or digits.")
        return tokens

    def position(self, leaf: Term | Phrase) -> str:
        tokens = self.tokens(leaf)
        if isinstance(leaf, Term) and leaf.prefix:
            return quote_lexeme(next(iter(tokens[0][1]))) + ":*"
        parts: list[str] = []
        previous = 0
        for index, (offset, lexemes) in enumerate(tokens):
            alternatives = " | ".join(quote_lexeme(lexeme) for lexeme in sorted(lexemes))
            if index:
                gap = offset - previous
                parts.append("<->" if gap == 1 else f"<{gap}>")
            parts.append(f"({alternatives})")
            previous = offset
        return " ".join(parts)

    def near_side(self, side: Node, operator: str) -> str:
        terms = side.operands if isinstance(side, Or) else (side,)
        texts = []
        for term in terms:
            assert isinstance(term, Term)  # the parser allows nothing else
            if len(self.tokens(term)) != 1:
                raise QueryError(
                    f"'{term.text}' counts as several words to the index, so it cannot be one "
                    f"side of {operator}: put it in quotes and join it with AND."
                )
            texts.append(self.position(term))
        return "(" + " | ".join(texts) + ")"

    def tsquery(self, node: Node) -> str:
        match node:
            case Term() | Phrase():
                return self.position(node)
            case Not(operand):
                return f"!({self.tsquery(operand)})"
            case And(operands):
                return " & ".join(f"({self.tsquery(o)})" for o in operands)
            case Or(operands):
                return " | ".join(f"({self.tsquery(o)})" for o in operands)
            case Near(left, right, distance, ordered):
                operator = f"{'pre' if ordered else 'w'}/{distance}"
                a, b = self.near_side(left, operator), self.near_side(right, operator)
                alternatives = [f"{a} <{k}> {b}" for k in range(1, distance + 1)]
                if not ordered:
                    alternatives += [f"{b} <{k}> {a}" for k in range(1, distance + 1)]
                return " | ".join(f"({alternative})" for alternative in alternatives)
        raise AssertionError(node)  # pragma: no cover

    # SQL ---------------------------------------------------------------------------------

    def sql(self, node: Node) -> tuple[str, list[str]]:
        fields = {leaf.field for leaf in leaves(node)}
        if len(fields) == 1:
            (only,) = fields
            if only != Field.FILENAME:
                column = {
                    Field.BODY: self.columns.body,
                    Field.FROM: self.columns.sender,
                    Field.TO: self.columns.recipient,
                }[only]
                return f"({column} @@ %s::tsquery)", [self.tsquery(node)]
            if isinstance(node, Term | Phrase | Near):
                return f"({self.columns.filename})", [self.tsquery(node)]
        match node:
            case Not(operand):
                inner, params = self.sql(operand)
                return f"(NOT {inner})", params
            case And(operands) | Or(operands):
                joiner = " AND " if isinstance(node, And) else " OR "
                pieces, params = [], []
                for operand in operands:
                    piece, more = self.sql(operand)
                    pieces.append(piece)
                    params += more
                return "(" + joiner.join(pieces) + ")", params
        raise AssertionError(node)  # pragma: no cover


def compile_search(node: Node, lexicon: Lexicon, columns: Columns) -> Compiled:
    """The SQL condition of ``node`` (a boolean expression with ``%s`` placeholders, one per
    tsquery parameter). :class:`QueryError` when a word holds nothing searchable or the search
    holds only words too common to mean anything."""
    terms = leaves(node)
    if all(isinstance(leaf, Term) and not leaf.prefix for leaf in terms) and all(
        _key(leaf) in lexicon.common for leaf in terms
    ):
        shown = ", ".join(f"'{leaf.text}'" for leaf in terms[:3])
        raise QueryError(
            f"{shown}: too common to search on their own. Add a word that says what you "
            f"are looking for, or put a whole expression in quotes."
        )
    sql, params = _Compiler(lexicon, columns).sql(node)
    return Compiled(sql, tuple(params))


def highlight_query(node: Node, lexicon: Lexicon) -> str | None:
    """A tsquery of every body term the search asks for (not those under a NOT), to mark the
    hits in a snippet and to rank by relevance; ``None`` when there is none."""
    compiler = _Compiler(lexicon, Columns("", "", "", ""))
    wanted = [compiler.tsquery(leaf) for leaf in _positive_body_leaves(node, negated=False)]
    return " | ".join(f"({text})" for text in wanted) or None


def _positive_body_leaves(node: Node, *, negated: bool) -> list[Term | Phrase]:
    match node:
        case Term() | Phrase():
            return [] if negated or node.field != Field.BODY else [node]
        case Not(operand):
            return _positive_body_leaves(operand, negated=not negated)
        case And(operands) | Or(operands):
            return [x for o in operands for x in _positive_body_leaves(o, negated=negated)]
        case Near(left, right):
            return _positive_body_leaves(left, negated=negated) + _positive_body_leaves(
                right, negated=negated
            )
    raise AssertionError(node)  # pragma: no cover
