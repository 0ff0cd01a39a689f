"""Lexicon and pattern rules: what a compliance officer writes as plain data, matched fast.

A rule document (JSON; the policy documents embed it) holds a list of rules:

    {"rules": [
      {"name": "Guaranteed returns",            # unique in the document; shown to officers
       "category": "guarantee",                 # the finding's category (a slug)
       "score": 0.9,                            # optional, in (0, 1]; default 1.0
       "any": [                                 # at least one of these must be in the message
         "risk-free return*",                   #   a term: a word or a phrase
         {"terms": ["guarant*", "garantid*"],   #   proximity: one of `terms` within `within`
          "near": ["return*", "retorno*"],      #   words of one of `near` (`ordered`: `terms`
          "within": 3, "ordered": false}        #   first); `within` 1 to 50, and words next
                                                #   to each other are 1 apart
       ],
       "all": ["fund"],                         # each of these must be in the message too (AND)
       "none": ["past performance"],            # the rule stays quiet if any of these is (NOT)
       "exclude": ["guaranteed delivery"],      # a match inside one of these phrases is not one
       "patterns": ["\\\\d{2}% (?:a|ao) mes"],    # regular expressions, alternatives to `any`
       "language": "en",                        # optional: en, pt, es or hi-Latn (negators)
       "negation": true,                        # optional, default true: see below
       "negation_window": 3}                    # optional, words before a term, 1 to 10
    ]}

A rule needs at least one of `any`, `all` or `patterns`. `any` and `patterns` together are one
"one of these" group; `all`, the proximity clauses and `none` combine with it across the whole
message.

Terms. Case, accents, full-width forms, leetspeak and repeated letters do not matter (terms and
text both go through `normalize.normalize`): `garantido` finds `GARANTIDO`, `gar4nt1d0`,
`garantído`.
A phrase's words may be separated in the text by any spaces and punctuation (`risk free` finds
`risk-free` and `risk, free`). `*` at the end of a word matches any ending (`invest*`: invest,
investor, investimento); elsewhere in a word it is an error. A term matches whole words only:
word boundaries are Unicode-aware (`ação` is one word), checked in our own code on top of the raw
Aho-Corasick hits, because the fast engines only know ASCII boundaries.

Exclusions are local: with `"any": ["signal"], "exclude": ["signal processing"]`, "Signal
processing meeting" does not fire, but "signal processing is done, move to Signal" does.

Negation: a term with a negator among the `negation_window` words before it, in the same clause
(no `.`, `,`, `;`, `!`, `?` or line break between), is not a match: "returns are NOT guaranteed",
"não é garantido", "no está garantizado". The negators are those of the rule's `language` (all
four languages' when it has none: set it, since Portuguese `no` means "in the"). Hinglish puts
the negator after the verb, so `nahi`, `nahin`, `nhi`, `mat` also count within two words after
("guarantee nahi hai"), whatever the rule's language: Hinglish chat mixes in English words,
and these words mean nothing else in the other languages. "not only", "no risk",
"sem dúvida" and the like are not negations. Set `"negation": false` for rules whose
terms carry their own negation (complaints: "never received").

Patterns run on the normalized text (lower case, accents folded) with IGNORECASE. They are
refused when they could backtrack catastrophically: nested unbounded repeats (`(a+)+`), a repeat
inside an unbounded repeat, alternatives inside an unbounded repeat (`(a|ab)*`), backreferences,
more than three unbounded repeats, repeat bounds over 1000, or more than 300 characters.

Rules that would fire on nearly everything (`*`, a single letter, `a*`, a pattern matching empty
text) are accepted with a warning, so an officer sees the problem without losing the document.

Use: `validate_lexicon(document)` lists the problems (path + message); `compile_lexicon(document)`
raises `LexiconError` on errors and returns a `CompiledLexicon`, cached by the document's content
hash (a policy version compiles once per worker); `match(compiled, texts)` scans a batch.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import threading
import unicodedata
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ahocorasick

from policies.detectors.findings import Finding, Span
from policies.detectors.normalize import NormalizedText, normalize

with warnings.catch_warnings():
    # The stdlib's own regex parser: the only way to see a pattern's structure without writing
    # a parser. Deprecated as a module name since 3.11, but typed and still shipped.
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants
    import sre_parse

DETECTOR = "lexicon"
SEED_DIR = Path(__file__).resolve().parent / "lexicons"

MAX_RULES = 5_000
MAX_TERMS = 100_000
MAX_TERM_LENGTH = 200
MAX_PATTERN_LENGTH = 300
MAX_REPEAT_BOUND = 1_000
MAX_UNBOUNDED_REPEATS = 3
MAX_WITHIN = 50
MAX_NEGATION_WINDOW = 10
# A finding highlights at most this many places (a 100 KB message can repeat a term thousands
# of times; the officer needs the first ones, and the work stays bounded).
MAX_SPANS = 50
_CACHE_SIZE = 64
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,63}")
_RULE_KEYS = frozenset(
    {
        "name",
        "category",
        "score",
        "any",
        "all",
        "none",
        "exclude",
        "patterns",
        "negation",
        "negation_window",
        "description",
        "language",
    }
)
_NEAR_KEYS = frozenset({"terms", "near", "within", "ordered"})


# --- the matching view: words separated by single spaces --------------------------------------


class _SeparatorTable(dict[int, str]):
    """Punctuation, symbols (emoji), spaces and controls become a space; letters, marks and
    digits stay. One character for one, so view offsets are normalized-text offsets."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        kept = " " if unicodedata.category(char)[0] in "PZSC" else char
        self[code] = kept
        return kept


_SEPARATORS = _SeparatorTable()
_SPACE_RUN = re.compile(r" {2,}")
_WORD = re.compile(r"[^ ]+")
# What ends a clause for negation: a negator does not reach across these.
_CLAUSE_END = re.compile(r"[.,;:!?\n\r\u3002\u061f\u0964]")


class _View:
    """The normalized text with every run of separators as one space.

    `text` is the view; offsets map back to the normalized text through `to_normalized`, whose
    table is built only when a run was collapsed and a hit needs mapping (most messages have
    no hits, so the common path stays two calls in C).
    """

    __slots__ = ("_shift_at", "_shifts", "spaced", "text")

    def __init__(self, spaced: str, text: str) -> None:
        self.spaced = spaced
        self.text = text
        self._shift_at: list[int] | None = None
        self._shifts: list[int] = []

    def to_normalized(self, index: int) -> int:
        if self.text is self.spaced:
            return index
        if self._shift_at is None:
            self._build_shifts()
        assert self._shift_at is not None
        slot = bisect.bisect_right(self._shift_at, index) - 1
        return index + (self._shifts[slot] if slot >= 0 else 0)

    def _build_shifts(self) -> None:
        # After each collapsed run, view offsets lag the normalized ones by what was removed.
        shift_at: list[int] = []
        removed = 0
        for run in _SPACE_RUN.finditer(self.spaced):
            removed += run.end() - run.start() - 1
            shift_at.append(run.end() - removed)
            self._shifts.append(removed)
        self._shift_at = shift_at


def _view_text(normalized: str) -> tuple[str, str]:
    """The normalized text with separators as spaces, then with runs of spaces collapsed."""
    spaced = normalized.translate(_SEPARATORS)
    return spaced, (_SPACE_RUN.sub(" ", spaced) if "  " in spaced else spaced)


def _view_words(text: str) -> list[str]:
    return _view_text(normalize(text).text)[1].split()


# --- negation ---------------------------------------------------------------------------------


def _words(*texts: str) -> frozenset[str]:
    return frozenset(word for text in texts for word in _view_words(text))


# Negators before a term per language (normalized: `não` is `nao`). A rule's `language` picks
# its set, because one language's negator is another's preposition: Portuguese `no`/`na` mean
# "in the" ("me chama no Telegram"). A rule without a language uses them all. Contractions are
# also written out because the view splits "don't" into "don t" (a head and a `t`, below).
_ENGLISH_NEGATORS = _words(
    "not no never neither nor without cannot nothing none nobody",
    "dont doesnt didnt isnt arent wasnt werent cant wont shouldnt couldnt wouldnt aint",
)
_HINGLISH_NEGATORS = _words("nahi nahin nhi nai mat नहीं नही मत")
_NEGATORS_BEFORE: Mapping[str, frozenset[str]] = {
    "en": _ENGLISH_NEGATORS,
    "pt": _words("não nunca jamais nem sem nenhum nenhuma ninguém"),
    "es": _words("no nunca jamás ni sin ningún ninguna ninguno tampoco nadie nada"),
    # Hinglish chat borrows English freely ("returns not guaranteed").
    "hi-Latn": _HINGLISH_NEGATORS | _ENGLISH_NEGATORS,
}
_ALL_NEGATORS_BEFORE = frozenset().union(*_NEGATORS_BEFORE.values())
_CONTRACTION_HEADS = _words(
    "don doesn didn isn aren wasn weren can won shouldn couldn wouldn ain haven hasn hadn"
)
# Hinglish (and Hindi) negate after the verb: "guarantee nahi hai". Checked for every rule.
_NEGATORS_AFTER = _HINGLISH_NEGATORS
_AFTER_WINDOW = 2
# A negator followed by one of these does not negate what comes next: "not only", "no risk",
# "no doubt", "sem dúvida", "sin duda", "não só", "no solo", "no problem".
_NOT_NEGATING_NEXT = _words(
    "only just risk doubt problem worries wonder só apenas somente risco dúvida solo sólo "
    "riesgo duda problema"
)


# --- parsed rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Term:
    written: str
    words: tuple[str, ...]
    prefix: tuple[bool, ...]  # per word: `*` at its end

    @property
    def any_word(self) -> bool:
        return self.words == ("",)

    @property
    def key_words(self) -> int:
        """How many words the Aho-Corasick key covers (through the first wildcard's stem)."""
        for index, is_prefix in enumerate(self.prefix):
            if is_prefix:
                return index + 1
        return len(self.words)

    @property
    def key(self) -> str:
        return " ".join(self.words[: self.key_words])


@dataclass(frozen=True, slots=True)
class _Near:
    terms: tuple[int, ...]
    near: tuple[int, ...]
    within: int
    ordered: bool


_Item = int | _Near


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    category: str
    score: float
    any_items: tuple[_Item, ...]
    all_items: tuple[_Item, ...]
    none_terms: tuple[int, ...]
    exclude_terms: tuple[int, ...]
    patterns: tuple[re.Pattern[str], ...]
    negation: bool
    negation_window: int
    negators: frozenset[str]

    def trigger_terms(self) -> set[int]:
        """Terms whose presence can make the rule fire (not the NOT and exclusion terms)."""
        found: set[int] = set()
        for item in (*self.any_items, *self.all_items):
            if isinstance(item, _Near):
                found.update(item.terms)
                found.update(item.near)
            else:
                found.add(item)
        return found


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a rule document: where (a path like `rules[2].any[0]`) and what."""

    path: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class LexiconError(ValueError):
    """A rule document that cannot be compiled; `problems` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class CompiledLexicon:
    """A rule document compiled once: the automaton, the rules, and the warnings it raised."""

    content_hash: str
    rules: tuple[_Rule, ...]
    terms: tuple[_Term, ...]
    warnings: tuple[Problem, ...]
    automaton: Any = field(repr=False)  # ahocorasick.Automaton (no type information)
    rules_by_term: Mapping[int, tuple[int, ...]] = field(repr=False)
    always_checked: tuple[int, ...] = field(repr=False)  # rules with patterns or `*`
    any_word_terms: tuple[int, ...] = field(repr=False)


# --- validation and parsing -------------------------------------------------------------------


class _Parser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.errors = 0
        self.terms: list[_Term] = []
        self.term_ids: dict[tuple[tuple[str, ...], tuple[bool, ...]], int] = {}

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))
        self.errors += 1

    def warn(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message, "warning"))

    def document(self, document: object) -> list[_Rule]:
        if not isinstance(document, Mapping):
            self.error("", "a rule document is an object with a list of rules")
            return []
        unknown = sorted(set(document) - {"rules", "version", "description"})
        if unknown:
            self.error("", f"unknown field(s): {', '.join(map(str, unknown))}")
        rules = document.get("rules")
        if not isinstance(rules, list):
            self.error("rules", "is missing or is not a list of rules")
            return []
        if len(rules) > MAX_RULES:
            self.error("rules", f"has {len(rules)} rules; at most {MAX_RULES}")
            return []
        parsed: list[_Rule] = []
        names: set[str] = set()
        for index, raw in enumerate(rules):
            rule = self.rule(f"rules[{index}]", raw)
            if rule is None:
                continue
            if rule.name in names:
                self.error(f"rules[{index}].name", f"'{rule.name}' is used by another rule")
            names.add(rule.name)
            parsed.append(rule)
        if len(self.terms) > MAX_TERMS:
            self.error("rules", f"has {len(self.terms)} distinct terms; at most {MAX_TERMS}")
        return parsed

    def rule(self, path: str, raw: object) -> _Rule | None:
        if not isinstance(raw, Mapping):
            self.error(path, "a rule is an object (name, category, any/all/patterns ...)")
            return None
        before = self.errors
        unknown = sorted(set(map(str, raw)) - _RULE_KEYS)
        if unknown:
            self.error(path, f"unknown field(s): {', '.join(unknown)}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            self.error(f"{path}.name", "a rule needs a name (text, at most 200 characters)")
            name = ""
        category = raw.get("category")
        if not isinstance(category, str) or not _SLUG.fullmatch(category):
            self.error(
                f"{path}.category",
                "a category is a slug such as 'guarantee' (lower-case letters, digits, _)",
            )
            category = ""
        score = raw.get("score", 1.0)
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 < score <= 1:
            self.error(f"{path}.score", "a score is a number above 0 and at most 1")
            score = 1.0
        language = raw.get("language")
        if language is not None and language not in _NEGATORS_BEFORE:
            self.error(
                f"{path}.language",
                f"is one of {', '.join(sorted(_NEGATORS_BEFORE))}, or left out for all of them",
            )
            language = None
        negation = raw.get("negation", True)
        if not isinstance(negation, bool):
            self.error(f"{path}.negation", "is true or false")
            negation = True
        window = raw.get("negation_window", 3)
        if (
            isinstance(window, bool)
            or not isinstance(window, int)
            or not 1 <= window <= MAX_NEGATION_WINDOW
        ):
            self.error(
                f"{path}.negation_window", f"is a whole number of words, 1 to {MAX_NEGATION_WINDOW}"
            )
            window = 3
        any_items = self.items(f"{path}.any", raw.get("any"), allow_near=True)
        all_items = self.items(f"{path}.all", raw.get("all"), allow_near=True)
        none_terms = self.items(f"{path}.none", raw.get("none"), allow_near=False)
        exclude_terms = self.items(f"{path}.exclude", raw.get("exclude"), allow_near=False)
        patterns = self.patterns(f"{path}.patterns", raw.get("patterns"))
        if not any_items and not all_items and not patterns:
            self.error(path, "a rule needs at least one term in 'any' or 'all', or a pattern")
        if self.errors > before:
            return None
        return _Rule(
            name=name.strip(),
            category=category,
            score=float(score),
            any_items=tuple(any_items),
            all_items=tuple(all_items),
            none_terms=tuple(item for item in none_terms if isinstance(item, int)),
            exclude_terms=tuple(item for item in exclude_terms if isinstance(item, int)),
            patterns=tuple(patterns),
            negation=negation,
            negation_window=window,
            negators=_NEGATORS_BEFORE.get(str(language), _ALL_NEGATORS_BEFORE),
        )

    def items(self, path: str, raw: object, *, allow_near: bool) -> list[_Item]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(path, "is a list of terms")
            return []
        items: list[_Item] = []
        for index, entry in enumerate(raw):
            item_path = f"{path}[{index}]"
            if isinstance(entry, str):
                term = self.term(item_path, entry)
                if term is not None:
                    items.append(term)
            elif allow_near and isinstance(entry, Mapping):
                near = self.near(item_path, entry)
                if near is not None:
                    items.append(near)
            else:
                kind = "a term or a proximity clause" if allow_near else "a term (text)"
                self.error(item_path, f"is not {kind}")
        return items

    def near(self, path: str, raw: Mapping[Any, Any]) -> _Near | None:
        unknown = sorted(set(map(str, raw)) - _NEAR_KEYS)
        if unknown:
            self.error(path, f"unknown field(s): {', '.join(unknown)}")
        terms = self.items(f"{path}.terms", raw.get("terms"), allow_near=False)
        near = self.items(f"{path}.near", raw.get("near"), allow_near=False)
        if not terms:
            self.error(f"{path}.terms", "a proximity clause needs terms")
        if not near:
            self.error(f"{path}.near", "a proximity clause needs terms to be near")
        within = raw.get("within")
        if isinstance(within, bool) or not isinstance(within, int) or not 1 <= within <= MAX_WITHIN:
            self.error(f"{path}.within", f"is a whole number of words, 1 to {MAX_WITHIN}")
            return None
        ordered = raw.get("ordered", False)
        if not isinstance(ordered, bool):
            self.error(f"{path}.ordered", "is true or false")
            return None
        if not terms or not near:
            return None
        return _Near(
            terms=tuple(t for t in terms if isinstance(t, int)),
            near=tuple(t for t in near if isinstance(t, int)),
            within=within,
            ordered=ordered,
        )

    def term(self, path: str, written: str) -> int | None:
        if len(written) > MAX_TERM_LENGTH:
            self.error(path, f"a term has at most {MAX_TERM_LENGTH} characters")
            return None
        words: list[str] = []
        prefix: list[bool] = []
        for token in written.split():
            is_prefix = token.endswith("*")
            stem = token.rstrip("*")
            if "*" in stem:
                self.error(path, f"'{written}': '*' may only end a word (as in 'invest*')")
                return None
            pieces = _view_words(stem) if stem else []
            if not pieces:
                if is_prefix and not stem and len(written.split()) == 1:
                    self.warn(path, "'*' matches every word: the rule fires on every message")
                    return self.intern(written, ("",), (True,))
                if is_prefix:
                    self.error(path, f"'{written}': '*' needs letters before it inside a phrase")
                    return None
                continue  # punctuation between words, as in "risk - free"
            words.extend(pieces)
            prefix.extend([False] * (len(pieces) - 1) + [is_prefix])
        if not words:
            self.error(path, f"'{written}' has no letters or digits to match")
            return None
        if len(words) == 1 and prefix[0] and len(words[0]) <= 2:
            self.warn(path, f"'{written}' matches every word starting with '{words[0]}'")
        elif len(words) == 1 and len(words[0]) == 1:
            self.warn(path, f"'{written}' is a single character: it matches far too much")
        return self.intern(written, tuple(words), tuple(prefix))

    def intern(self, written: str, words: tuple[str, ...], prefix: tuple[bool, ...]) -> int:
        key = (words, prefix)
        if key not in self.term_ids:
            self.term_ids[key] = len(self.terms)
            self.terms.append(_Term(written, words, prefix))
        return self.term_ids[key]

    def patterns(self, path: str, raw: object) -> list[re.Pattern[str]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(path, "is a list of regular expressions")
            return []
        compiled: list[re.Pattern[str]] = []
        for index, pattern in enumerate(raw):
            item_path = f"{path}[{index}]"
            if not isinstance(pattern, str):
                self.error(item_path, "a pattern is text")
                continue
            problem = pattern_problem(pattern)
            if problem:
                self.error(item_path, problem)
                continue
            regex = re.compile(pattern, re.IGNORECASE)
            if regex.search("") is not None:
                self.warn(item_path, "matches empty text: the rule fires on every message")
            compiled.append(regex)
        return compiled


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


def validate_lexicon(document: object) -> list[Problem]:
    """Every problem of a rule document (errors and warnings), each with its path."""
    parser = _Parser()
    parser.document(document)
    return parser.problems


def lexicon_hash(document: object) -> str:
    """The content hash a compiled lexicon is cached under (key order does not matter)."""
    try:
        canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise LexiconError([Problem("", f"is not a JSON document ({error})")]) from error
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


_cache: OrderedDict[str, CompiledLexicon] = OrderedDict()
_cache_lock = threading.Lock()


def compile_lexicon(document: object) -> CompiledLexicon:
    """Compile a rule document (or take it from this process's cache); `LexiconError` if bad."""
    content_hash = lexicon_hash(document)
    with _cache_lock:
        cached = _cache.get(content_hash)
        if cached is not None:
            _cache.move_to_end(content_hash)
            return cached
    compiled = _compile(document, content_hash)
    with _cache_lock:
        _cache[content_hash] = compiled
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def _compile(document: object, content_hash: str) -> CompiledLexicon:
    parser = _Parser()
    rules = parser.document(document)
    errors = [problem for problem in parser.problems if problem.severity == "error"]
    if errors:
        raise LexiconError(errors)
    automaton = ahocorasick.Automaton()
    by_key: dict[str, list[int]] = {}
    any_word: list[int] = []
    for term_id, term in enumerate(parser.terms):
        if term.any_word:
            any_word.append(term_id)
        else:
            by_key.setdefault(term.key, []).append(term_id)
    for key, term_ids in by_key.items():
        first = parser.terms[term_ids[0]]
        # A key that is a whole plain term (no wildcard) needs no further check but its end.
        simple = (
            term_ids[0]
            if len(term_ids) == 1 and first.key_words == len(first.words) and not first.prefix[-1]
            else -1
        )
        automaton.add_word(key, (len(key), tuple(term_ids), simple))
    if by_key:
        automaton.make_automaton()
    rules_by_term: dict[int, list[int]] = {}
    always: list[int] = []
    any_word_set = set(any_word)
    for rule_id, rule in enumerate(rules):
        triggers = rule.trigger_terms()
        if rule.patterns or triggers & any_word_set:
            always.append(rule_id)
        for term_id in triggers:
            rules_by_term.setdefault(term_id, []).append(rule_id)
    return CompiledLexicon(
        content_hash=content_hash,
        rules=tuple(rules),
        terms=tuple(parser.terms),
        warnings=tuple(parser.problems),
        automaton=automaton if by_key else None,
        rules_by_term={term: tuple(ids) for term, ids in rules_by_term.items()},
        always_checked=tuple(always),
        any_word_terms=tuple(any_word),
    )


# --- matching ---------------------------------------------------------------------------------


def _word_end(view: str, position: int) -> int:
    space = view.find(" ", position)
    return len(view) if space < 0 else space


def _finish(term: _Term, view: str, position: int) -> int | None:
    """Where a term's match ends, given its key ended at `position` (None: not a match)."""
    last = term.key_words - 1
    if term.prefix[last]:
        position = _word_end(view, position)
    elif position < len(view) and view[position] != " ":
        return None
    for word, is_prefix in zip(term.words[last + 1 :], term.prefix[last + 1 :], strict=True):
        if position >= len(view) or not view.startswith(word, position + 1):
            return None
        position += 1 + len(word)
        if is_prefix:
            position = _word_end(view, position)
        elif position < len(view) and view[position] != " ":
            return None
    return position


_Hit = tuple[int, int]  # view offsets


class _Message:
    """One message being matched: its views, hits, and the words around them (built lazily)."""

    def __init__(
        self,
        compiled: CompiledLexicon,
        normalized: NormalizedText,
        view: _View,
        hits: dict[int, list[_Hit]],
    ) -> None:
        self.compiled = compiled
        self.normalized = normalized
        self.view = view
        self.hits = hits
        self._word_starts: list[int] | None = None
        self._words: list[str] | None = None
        self._negated: dict[tuple[_Hit, int, frozenset[str]], bool] = {}

    def words(self) -> tuple[list[int], list[str]]:
        if self._word_starts is None or self._words is None:
            found = list(_WORD.finditer(self.view.text))
            self._word_starts = [word.start() for word in found]
            self._words = [word.group() for word in found]
        return self._word_starts, self._words

    def word_range(self, hit: _Hit) -> tuple[int, int]:
        starts, _ = self.words()
        return bisect.bisect_right(starts, hit[0]) - 1, bisect.bisect_right(starts, hit[1] - 1) - 1

    def original(self, hit: _Hit) -> tuple[int, int]:
        start = self.view.to_normalized(hit[0])
        end = self.view.to_normalized(hit[1] - 1) + 1 if hit[1] > hit[0] else start
        return self.normalized.original_span(start, end)

    def original_text(self, hit: _Hit) -> str:
        start, end = self.original(hit)
        written = self.normalized.original[start:end]
        return written if len(written) <= 60 else written[:57] + "..."

    def _same_clause(self, left: int, right: int) -> bool:
        """No clause punctuation between view offsets `left` and `right` (in normalized text)."""
        text = self.normalized.text
        begin, end = self.view.to_normalized(left), self.view.to_normalized(right)
        return _CLAUSE_END.search(text, begin, end) is None

    def negated(self, hit: _Hit, rule: _Rule) -> bool:
        window = rule.negation_window
        cache_key = (hit, window, rule.negators)
        if cache_key in self._negated:
            return self._negated[cache_key]
        starts, words = self.words()
        first, last = self.word_range(hit)
        result = False
        for index in range(max(0, first - window), first):
            word = words[index]
            negator = word in rule.negators or (
                word == "t" and index > 0 and words[index - 1] in _CONTRACTION_HEADS
            )
            following = words[index + 1] if index + 1 < len(words) else ""
            if (
                negator
                and following not in _NOT_NEGATING_NEXT
                and self._same_clause(starts[index], hit[0])
            ):
                result = True
                break
        if not result:
            for index in range(last + 1, min(len(words), last + 1 + _AFTER_WINDOW)):
                if words[index] in _NEGATORS_AFTER and self._same_clause(hit[1], starts[index]):
                    result = True
                    break
        self._negated[cache_key] = result
        return result

    def live_hits(self, term_id: int, rule: _Rule) -> list[_Hit]:
        """A term's hits that count for `rule`: not inside an exclusion, not negated."""
        hits = self.hits.get(term_id, [])
        if not hits:
            return hits
        excluded = (
            _merged_hits([h for t in rule.exclude_terms for h in self.hits.get(t, ())])
            if rule.exclude_terms
            else []
        )
        excluded_starts = [start for start, _ in excluded]
        live: list[_Hit] = []
        for hit in hits:
            if excluded:
                slot = bisect.bisect_right(excluded_starts, hit[0]) - 1
                if slot >= 0 and hit[1] <= excluded[slot][1]:
                    continue
            if rule.negation and self.negated(hit, rule):
                continue
            live.append(hit)
        return live

    def item(self, item: _Item, rule: _Rule) -> tuple[list[_Hit], str] | None:
        """The hits that satisfy one `any`/`all` item and how to say it (None: not satisfied)."""
        if not isinstance(item, _Near):
            if item not in self.hits:
                return None
            hits = self.live_hits(item, rule)
            return (hits, f"'{self.original_text(hits[0])}'") if hits else None
        lefts = [h for t in item.terms for h in self.live_hits(t, rule)]
        rights = [h for t in item.near for h in self.live_hits(t, rule)] if lefts else []
        pairs = self._pairs(lefts, rights, item)
        if not pairs:
            return None
        left, right = pairs[0]
        relation = (
            f"up to {item.within} words before"
            if item.ordered
            else f"within {item.within} words of"
        )
        said = f"'{self.original_text(left)}' {relation} '{self.original_text(right)}'"
        return [hit for pair in pairs for hit in pair], said

    def _pairs(self, lefts: list[_Hit], rights: list[_Hit], item: _Near) -> list[tuple[_Hit, _Hit]]:
        """Pairs (left, right) at most `within` words apart, found by bisection, not n * m."""
        if not lefts or not rights:
            return []
        by_first = sorted((self.word_range(hit)[0], hit) for hit in rights)
        firsts = [first for first, _ in by_first]
        by_last = sorted((self.word_range(hit)[1], hit) for hit in rights)
        lasts = [last for last, _ in by_last]
        pairs: list[tuple[_Hit, _Hit]] = []
        for left in lefts:
            left_first, left_last = self.word_range(left)
            # The right term after the left one: its first word 1..within words after.
            low = bisect.bisect_left(firsts, left_last + 1)
            high = bisect.bisect_right(firsts, left_last + item.within)
            pairs.extend((left, hit) for _, hit in by_first[low:high])
            if not item.ordered:
                low = bisect.bisect_left(lasts, left_first - item.within)
                high = bisect.bisect_right(lasts, left_first - 1)
                pairs.extend((left, hit) for _, hit in by_last[low:high])
            if len(pairs) >= MAX_SPANS:
                break
        return pairs[:MAX_SPANS]

    def rule(self, rule: _Rule) -> Finding | None:
        for term_id in rule.none_terms:
            if self.hits.get(term_id):
                return None
        spans: set[tuple[int, int]] = set()
        said: list[str] = []
        if rule.any_items or rule.patterns:
            matched_any = False
            for item in rule.any_items:
                satisfied = self.item(item, rule)
                if satisfied is not None:
                    matched_any = True
                    spans.update(self.original(hit) for hit in satisfied[0][:MAX_SPANS])
                    if len(said) < 3:
                        said.append(satisfied[1])
            for pattern in rule.patterns:
                found = pattern.search(self.normalized.text)
                if found is not None and found.end() > found.start():
                    matched_any = True
                    span = self.normalized.original_span(found.start(), found.end())
                    spans.add(span)
                    if len(said) < 3:
                        written = self.normalized.original[span[0] : span[1]][:60]
                        said.append(f"'{written}' (pattern)")
            if not matched_any:
                return None
        for item in rule.all_items:
            satisfied = self.item(item, rule)
            if satisfied is None:
                return None
            spans.update(self.original(hit) for hit in satisfied[0][:MAX_SPANS])
            said.append(satisfied[1])
        return Finding(
            category=rule.category,
            detector=DETECTOR,
            score=rule.score,
            spans=_merged(spans),
            explanation=f"{' and '.join(said)} (rule '{rule.name}')",
            attributes={"rule": rule.name},
        )


def _merged_hits(hits: list[_Hit]) -> list[_Hit]:
    """Hits in order with overlapping ones joined."""
    merged: list[_Hit] = []
    for start, end in sorted(hits):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _merged(spans: set[tuple[int, int]]) -> tuple[Span, ...]:
    """Spans in order, overlapping ones joined (a phrase and its own word highlight once)."""
    return tuple(Span(start, end) for start, end in _merged_hits(list(spans))[:MAX_SPANS])


def _find_hits(compiled: CompiledLexicon, view: str) -> dict[int, list[_Hit]]:
    """Each term's whole-word matches in the view: Aho-Corasick hits, then our own boundaries."""
    hits: dict[int, list[_Hit]] = {}
    if compiled.automaton is not None:
        terms = compiled.terms
        length = len(view)
        for end, (key_length, term_ids, simple) in compiled.automaton.iter(view):
            start = end - key_length + 1
            if start > 0 and view[start - 1] != " ":
                continue
            if simple >= 0:
                # A plain word or phrase (most terms): only the end boundary is left to check.
                if end + 1 == length or view[end + 1] == " ":
                    hits.setdefault(simple, []).append((start, end + 1))
                continue
            for term_id in term_ids:
                finish = _finish(terms[term_id], view, end + 1)
                if finish is not None:
                    hits.setdefault(term_id, []).append((start, finish))
    if compiled.any_word_terms:
        spans = [(word.start(), word.end()) for word in _WORD.finditer(view)]
        if spans:
            for term_id in compiled.any_word_terms:
                hits[term_id] = spans
    return hits


def match_one(compiled: CompiledLexicon, normalized: NormalizedText) -> list[Finding]:
    """The findings of one normalized text (use `match` on the hot path)."""
    spaced, view = _view_text(normalized.text)
    hits = _find_hits(compiled, view)
    if not hits and not compiled.always_checked:
        return []
    message = _Message(compiled, normalized, _View(spaced, view), hits)
    rule_ids = set(compiled.always_checked)
    for term_id in hits:
        rule_ids.update(compiled.rules_by_term.get(term_id, ()))
    findings: list[Finding] = []
    for rule_id in sorted(rule_ids):
        finding = message.rule(compiled.rules[rule_id])
        if finding is not None:
            findings.append(finding)
    return findings


def match(
    compiled: CompiledLexicon,
    texts: Sequence[str],
    *,
    normalized: Sequence[NormalizedText] | None = None,
) -> list[list[Finding]]:
    """For each text of a batch, the findings of every rule that fired (spans in the original).

    Pass `normalized` (from `normalize.normalize_batch`) when the batch was already normalized
    for another detector, so it is done once.
    """
    if normalized is None:
        normalized = [normalize(text) for text in texts]
    elif len(normalized) != len(texts):
        raise ValueError("normalized must hold one entry per text")
    return [match_one(compiled, entry) for entry in normalized]


def seed_lexicon(categories: Sequence[str] | None = None) -> dict[str, Any]:
    """The built-in rules (lexicons/*.json) for `categories` (all of them by default), as one
    rule document."""
    rules: list[Any] = []
    for path in sorted(SEED_DIR.glob("*.json")):
        if categories is not None and path.stem not in categories:
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        rules.extend(document["rules"])
    return {"rules": rules}
