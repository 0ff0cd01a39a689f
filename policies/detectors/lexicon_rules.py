"""The lexicon's rule documents: their validation, their parsed form, and the matching view.

The document format is described in `policies.detectors.lexicon`. `Parser` turns a document into
`Rule`s whose terms are interned (the same words and wildcards are one term, matched once), and
lists every problem with its path; `view_text` is the form both terms and messages are matched
in (normalized, separators as single spaces), so a term and the text it finds agree on words.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from policies.detectors.normalize import normalize
from policies.detectors.safe_regex import pattern_problem

MAX_RULES = 5_000
MAX_TERMS = 100_000
MAX_TERM_LENGTH = 200
MAX_WITHIN = 50
MAX_NEGATION_WINDOW = 10
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
WORD = re.compile(r"[^ ]+")
# What ends a clause for negation: a negator does not reach across these.
CLAUSE_END = re.compile(r"[.,;:!?\n\r\u3002\u061f\u0964]")


class View:
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


def view_text(normalized: str) -> tuple[str, str]:
    """The normalized text with separators as spaces, then with runs of spaces collapsed."""
    spaced = normalized.translate(_SEPARATORS)
    return spaced, (_SPACE_RUN.sub(" ", spaced) if "  " in spaced else spaced)


def view_words(text: str) -> list[str]:
    return view_text(normalize(text).text)[1].split()


# --- negation ---------------------------------------------------------------------------------


def _words(*texts: str) -> frozenset[str]:
    return frozenset(word for text in texts for word in view_words(text))


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
CONTRACTION_HEADS = _words(
    "don doesn didn isn aren wasn weren can won shouldn couldn wouldn ain haven hasn hadn"
)
# Hinglish (and Hindi) negate after the verb: "guarantee nahi hai". Checked for every rule.
NEGATORS_AFTER = _HINGLISH_NEGATORS
AFTER_WINDOW = 2
# A negator followed by one of these does not negate what comes next: "not only", "no risk",
# "no doubt", "sem dúvida", "sin duda", "não só", "no solo", "no problem".
NOT_NEGATING_NEXT = _words(
    "only just risk doubt problem worries wonder só apenas somente risco dúvida solo sólo "
    "riesgo duda problema"
)


# --- parsed rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
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
class Near:
    terms: tuple[int, ...]
    near: tuple[int, ...]
    within: int
    ordered: bool


Item = int | Near


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    category: str
    score: float
    any_items: tuple[Item, ...]
    all_items: tuple[Item, ...]
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
            if isinstance(item, Near):
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


# --- validation and parsing -------------------------------------------------------------------


class Parser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.errors = 0
        self.terms: list[Term] = []
        self.term_ids: dict[tuple[tuple[str, ...], tuple[bool, ...]], int] = {}

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))
        self.errors += 1

    def warn(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message, "warning"))

    def document(self, document: object) -> list[Rule]:
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
        parsed: list[Rule] = []
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

    def rule(self, path: str, raw: object) -> Rule | None:
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
        return Rule(
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

    def items(self, path: str, raw: object, *, allow_near: bool) -> list[Item]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(path, "is a list of terms")
            return []
        items: list[Item] = []
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

    def near(self, path: str, raw: Mapping[Any, Any]) -> Near | None:
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
        return Near(
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
            pieces = view_words(stem) if stem else []
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
            self.terms.append(Term(written, words, prefix))
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
            try:
                regex = re.compile(pattern, re.IGNORECASE)
            except re.error as error:  # what only the compiler checks (look-behind widths)
                self.error(item_path, f"is not a valid regular expression ({error})")
                continue
            if regex.search("") is not None:
                self.warn(item_path, "matches empty text: the rule fires on every message")
            compiled.append(regex)
        return compiled


def validate_lexicon(document: object) -> list[Problem]:
    """Every problem of a rule document (errors and warnings), each with its path."""
    parser = Parser()
    parser.document(document)
    return parser.problems
