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

A rule needs at least one of `any`, `all` or `patterns`. It fires on a message when one item of
`any` or one pattern holds (if it has any), every item of `all` holds, and no term of `none` is
in it; a proximity clause may stand in `any` or `all` like a term. A rule may also carry a
`description` (text for people), and the document a `description` and a `version`.

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

Patterns run on the normalized text (lower case, accents folded) with IGNORECASE. Those that
could backtrack catastrophically are refused (`safe_regex.pattern_problem` says which and why).

Rules that would fire on nearly everything (`*`, a single letter, `a*`, a pattern matching empty
text) are accepted with a warning, so an officer sees the problem without losing the document.

The document's parsing and validation live in `lexicon_rules`; this module compiles and matches.
Use: `validate_lexicon(document)` lists the problems (path + message); `compile_lexicon(document)`
raises `LexiconError` on errors and returns a `CompiledLexicon`, cached by the document's content
hash (a policy version compiles once per worker); `match(compiled, texts)` scans a batch.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick

from policies.detectors.findings import Finding, Span
from policies.detectors.lexicon_rules import (
    AFTER_WINDOW,
    CLAUSE_END,
    CONTRACTION_HEADS,
    NEGATORS_AFTER,
    NOT_NEGATING_NEXT,
    WORD,
    Item,
    LexiconError,
    Near,
    Parser,
    Problem,
    Rule,
    Term,
    View,
    validate_lexicon,
    view_text,
)
from policies.detectors.normalize import NormalizedText, normalize
from policies.detectors.safe_regex import pattern_problem

__all__ = [
    "DETECTOR",
    "SEED_DIR",
    "CompiledLexicon",
    "LexiconError",
    "Problem",
    "compile_lexicon",
    "lexicon_hash",
    "match",
    "match_one",
    "pattern_problem",
    "seed_lexicon",
    "validate_lexicon",
]

DETECTOR = "lexicon"
SEED_DIR = Path(__file__).resolve().parent / "lexicons"
# A finding highlights at most this many places (a 100 KB message can repeat a term thousands
# of times; the officer needs the first ones, and the work stays bounded).
MAX_SPANS = 50
_CACHE_SIZE = 64


@dataclass(frozen=True)
class CompiledLexicon:
    """A rule document compiled once: the automaton, the rules, and the warnings it raised."""

    content_hash: str
    rules: tuple[Rule, ...]
    terms: tuple[Term, ...]
    warnings: tuple[Problem, ...]
    automaton: Any = field(repr=False)  # ahocorasick.Automaton (no type information)
    rules_by_term: Mapping[int, tuple[int, ...]] = field(repr=False)
    always_checked: tuple[int, ...] = field(repr=False)  # rules with patterns or `*`
    any_word_terms: tuple[int, ...] = field(repr=False)


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
    parser = Parser()
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


def _finish(term: Term, view: str, position: int) -> int | None:
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
        view: View,
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
            found = list(WORD.finditer(self.view.text))
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
        return CLAUSE_END.search(text, begin, end) is None

    def negated(self, hit: _Hit, rule: Rule) -> bool:
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
                word == "t" and index > 0 and words[index - 1] in CONTRACTION_HEADS
            )
            following = words[index + 1] if index + 1 < len(words) else ""
            if (
                negator
                and following not in NOT_NEGATING_NEXT
                and self._same_clause(starts[index], hit[0])
            ):
                result = True
                break
        if not result:
            for index in range(last + 1, min(len(words), last + 1 + AFTER_WINDOW)):
                if words[index] in NEGATORS_AFTER and self._same_clause(hit[1], starts[index]):
                    result = True
                    break
        self._negated[cache_key] = result
        return result

    def live_hits(self, term_id: int, rule: Rule) -> list[_Hit]:
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

    def item(self, item: Item, rule: Rule) -> tuple[list[_Hit], str] | None:
        """The hits that satisfy one `any`/`all` item and how to say it (None: not satisfied)."""
        if not isinstance(item, Near):
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

    def _pairs(self, lefts: list[_Hit], rights: list[_Hit], item: Near) -> list[tuple[_Hit, _Hit]]:
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

    def rule(self, rule: Rule) -> Finding | None:
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
        spans = [(word.start(), word.end()) for word in WORD.finditer(view)]
        if spans:
            for term_id in compiled.any_word_terms:
                hits[term_id] = spans
    return hits


def match_one(compiled: CompiledLexicon, normalized: NormalizedText) -> list[Finding]:
    """The findings of one normalized text (use `match` on the hot path)."""
    spaced, view = view_text(normalized.text)
    hits = _find_hits(compiled, view)
    if not hits and not compiled.always_checked:
        return []
    message = _Message(compiled, normalized, View(spaced, view), hits)
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
