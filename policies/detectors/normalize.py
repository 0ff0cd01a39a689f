"""One normalization of chat text, shared by every detector and the classifiers.

`normalize(text)` folds what people vary when they type (or when they try to slip past a
keyword list) so that one spelling of a term finds all of them:

- case (`str.casefold`: `GARANTIDO`, `Straße` -> `strasse`);
- compatibility forms (NFKD: full-width `ｇｕａｒａｎｔｅｅｄ`, ligatures, superscripts);
- accents: the generic combining diacritics are dropped after NFKD (`ações` -> `acoes`,
  `operación` -> `operacion`). Marks that belong to a script's spelling (Devanagari vowel signs
  and virama, for instance) are kept: dropping them changes the word, not its accent;
- invisible characters (format characters: zero-width space and joiners, bidi marks, the byte
  order mark, soft hyphens) are removed, so `guar\u200banteed` reads `guaranteed`;
- leetspeak, inside words that mix letters and digits only (`gu4r4nt33d` -> `guaranteed`,
  `r1sk-fr33` -> `risk-free`). Numbers, amounts, dates and identifiers are left alone: a word is
  read as leetspeak only when all its digits are ones people use for letters (0 1 3 4 5 7), no
  three digits run together (`ORD1034`), and it is not a number with a unit (`10am`, `2nd`, `5k`);
- lookalike letters: Cyrillic and Greek letters that look Latin (`а`, `е`, `о`, `ρ` ...) inside a
  word that also has Latin letters read as Latin (`guаranteed` -> `guaranteed`); wholly Cyrillic
  or Greek words are left alone;
- repeated letters: a run of three or more of the same letter becomes two (`guaranteeeed` ->
  `guaranteed`, `sooo` -> `soo`); two is kept because real words double letters.

Everything else (spaces, punctuation, emoji, digits) is kept as it is, so classifiers still see
`!!!` and `😡`.

The result carries an offset map back to the original text: `original_span(start, end)` turns a
span found in the normalized text into the span of the characters the person wrote (a folded
`ç` maps back to `ç`, or to `c` plus its combining cedilla when the text came decomposed; a
collapsed `eeee` maps back to all four). Offsets are Python string indices (code points), as in
`findings.Span`.

It runs on every message, so the common case is kept in C: text whose characters all fold to one
character each (plain ASCII, accented Latin, emoji) is folded with `str.translate` and needs no
per-character map; only text with invisible characters, decomposed accents or expanding forms
(`ß`, ligatures) takes the slower per-character path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

# Generic combining diacritics (the accents of Latin, Greek and Cyrillic text), and the variation
# selectors that only choose a glyph's style. Script-specific marks outside these blocks are kept.
_DIACRITIC_BLOCKS: tuple[tuple[int, int], ...] = (
    (0x0300, 0x036F),  # Combining Diacritical Marks
    (0x1AB0, 0x1AFF),  # Combining Diacritical Marks Extended
    (0x1DC0, 0x1DFF),  # Combining Diacritical Marks Supplement
    (0x20D0, 0x20FF),  # Combining Diacritical Marks for Symbols
    (0xFE00, 0xFE0F),  # Variation Selectors
    (0xFE20, 0xFE2F),  # Combining Half Marks
    (0xE0100, 0xE01EF),  # Variation Selectors Supplement
)


def _is_diacritic(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _DIACRITIC_BLOCKS)


def _fold_char(char: str) -> str:
    """The folded form of one character: '' when it disappears, often one character, maybe more."""
    if unicodedata.category(char) == "Cf":
        return ""
    # casefold before and after NFKD: casefold can expose a decomposable character (`İ`), and a
    # compatibility decomposition can expose an upper-case letter (`℃` -> `°C`).
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    return "".join(part for part in folded.casefold() if not _is_diacritic(part))


class _FoldTable(dict[int, str]):
    """`str.translate` table filled on first sight of each character (a few thousand at most)."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


class _IrregularTable(dict[int, str]):
    """Maps a character to '' when it folds to exactly one character, else to itself.

    `text.translate(_IRREGULAR)` is empty exactly when the text can be folded character by
    character with an identity offset map (checked in C, not in a Python loop).
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        # A diacritic folds to '' and attaches to the character before it: not one-to-one.
        marker = "" if len(_FOLD[code]) == 1 else char
        self[code] = marker
        return marker


_FOLD = _FoldTable()
_IRREGULAR = _IrregularTable()

_LEET_LETTERS = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"})
_LEET_DIGITS = frozenset("013457")
# A letter next to a digit: the only texts that can hold a leetspeak word.
_LETTER_BY_DIGIT = re.compile(r"[^\W\d_]\d|\d[^\W\d_]")
# A word holding a letter next to a digit (the only candidates for leetspeak).
# Anchored at a word's start (lookbehind) so each word is scanned once, not once per letter.
_MIXED_WORD = re.compile(r"(?<![^\W_])(?=[^\W_]*?(?:[^\W\d_]\d|\d[^\W\d_]))[^\W_]+")
# Numbers with a unit or an ordinal suffix are numbers, not leetspeak: 10am, 5pm, 2nd, 3rd, 10k.
_NUMBER_WITH_UNIT = re.compile(
    r"\d+(?:st|nd|rd|th|am|pm|k|m|b|bn|mn|mm|cm|km|kg|g|mg|ml|l|gb|mb|h|hr|hrs|min|mins|s|x|y|yr|yrs|d|w)"
)
# The same two for lower-case ASCII text (most chat): plain ranges instead of Unicode classes,
# which `re` tests several times slower; on such text they match exactly where the two above do.
_LETTER_BY_DIGIT_ASCII = re.compile(r"[a-z][0-9]|[0-9][a-z]")
_MIXED_WORD_ASCII = re.compile(r"(?<![a-z0-9])(?=[a-z0-9]*?(?:[a-z][0-9]|[0-9][a-z]))[a-z0-9]+")
_THREE_DIGITS = re.compile(r"\d{3}")
# Three or more of the same letter (not digit: 1000 stays 1000).
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
# Cyrillic and Greek letters that look like Latin ones, read as Latin inside a word that also
# has Latin letters (`guаranteed` with a Cyrillic `а`): a trick to slip past keyword lists. A word
# wholly in Cyrillic or Greek is left alone (it is Russian or Greek, not a disguise).
_LOOKALIKES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l",
        "α": "a", "ο": "o", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    }
)  # fmt: skip
_LOOKALIKE_CLASS = "аеорсухіјѕԁһԛԝӏαοικνρτυχ"
_HAS_LOOKALIKE = re.compile(f"[{_LOOKALIKE_CLASS}]")
_DISGUISED_WORD = re.compile(
    rf"(?<![^\W_])(?=[^\W_]*?[a-z])(?=[^\W_]*?[{_LOOKALIKE_CLASS}])[^\W_]+"
)
# Cheap first checks (Unicode letter classes make `re` several times slower): most messages
# have no digit and no character three times in a row, and leave after these two scans.
_DIGIT = re.compile(r"\d")
_ANY_TRIPLE = re.compile(r"(.)\1\1", re.DOTALL)


class NormalizedText(NamedTuple):
    """A text after `normalize`, with the way back to the original's offsets.

    `text` is the normalized text. `starts[i]`/`ends[i]` give the original characters that
    normalized character `i` came from; both are None when the map is the identity (the
    normalized text has the original's length and character `i` came from character `i`).
    A named tuple rather than a dataclass: one is built for every message, and a tuple is the
    cheapest object Python builds.
    """

    original: str
    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind normalized characters `start` (inclusive) to `end`."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}..{end} lies outside the normalized text")
        if self.starts is None or self.ends is None:
            return start, end
        if start == end:
            # An empty span sits before normalized character `start` (or at the very end).
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]


def _is_leetspeak(word: str) -> bool:
    digits = [char for char in word if char.isdigit()]
    if not digits or len(digits) == len(word):
        return False
    if any(digit not in _LEET_DIGITS for digit in digits):
        return False
    return _THREE_DIGITS.search(word) is None and _NUMBER_WITH_UNIT.fullmatch(word) is None


def _unleet(folded: str, *, lower_ascii: bool = False) -> str:
    """Leetspeak words read as letters; one character for one, so the offset map is unchanged.
    `lower_ascii`: the text is ASCII in lower case (the quicker patterns then apply)."""
    if lower_ascii:
        if _LETTER_BY_DIGIT_ASCII.search(folded) is None:
            return folded
        return _MIXED_WORD_ASCII.sub(_unleet_word, folded)
    if _LETTER_BY_DIGIT.search(folded) is None:
        return folded
    return _MIXED_WORD.sub(_unleet_word, folded)


def _unleet_word(found: re.Match[str]) -> str:
    word = found[0]
    return word.translate(_LEET_LETTERS) if _is_leetspeak(word) else word


def _undisguise(folded: str) -> str:
    """Lookalike letters inside Latin words read as Latin; one for one, so the map is unchanged."""
    if _HAS_LOOKALIKE.search(folded) is None:
        return folded
    return _DISGUISED_WORD.sub(lambda word: word[0].translate(_LOOKALIKES), folded)


def _fold_by_character(text: str) -> tuple[str, list[int], list[int]]:
    """The slow path: fold each character, recording where each output character came from."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        folded = _FOLD[ord(char)]
        if folded:
            for part in folded:
                chars.append(part)
                starts.append(index)
                ends.append(index + 1)
        elif ends and _is_diacritic(char):
            # A combining accent belongs to the letter before it: highlight them together.
            ends[-1] = index + 1
    return "".join(chars), starts, ends


def _collapse_repeats(
    text: str, starts: list[int], ends: list[int]
) -> tuple[str, list[int], list[int]]:
    pieces: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    done = 0
    for run in _REPEATED_LETTER.finditer(text):
        keep_until = run.start() + 2
        pieces.append(text[done:keep_until])
        new_starts.extend(starts[done:keep_until])
        new_ends.extend(ends[done : keep_until - 1])
        # The second kept letter stands for the whole rest of the run.
        new_ends.append(ends[run.end() - 1])
        done = run.end()
    pieces.append(text[done:])
    new_starts.extend(starts[done:])
    new_ends.extend(ends[done:])
    return "".join(pieces), new_starts, new_ends


def normalize(text: str) -> NormalizedText:
    """Fold case, accents, compatibility forms, invisible characters, leetspeak and repeats."""
    lower_ascii = text.isascii()
    if lower_ascii:
        folded = text.lower()
    elif not text.translate(_IRREGULAR):
        folded = _undisguise(text.translate(_FOLD))
    else:
        folded, starts, ends = _fold_by_character(text)
        folded = _unleet(_undisguise(folded))
        folded, starts, ends = _collapse_repeats(folded, starts, ends)
        return NormalizedText(text, folded, tuple(starts), tuple(ends))
    # One character for one so far: the map stays the identity unless letters repeat.
    if _DIGIT.search(folded) is not None:
        folded = _unleet(folded, lower_ascii=lower_ascii)
    if _ANY_TRIPLE.search(folded) is None or _REPEATED_LETTER.search(folded) is None:
        return NormalizedText(text, folded)
    starts = list(range(len(text)))
    ends = list(range(1, len(text) + 1))
    folded, starts, ends = _collapse_repeats(folded, starts, ends)
    return NormalizedText(text, folded, tuple(starts), tuple(ends))


def normalize_batch(texts: Iterable[str]) -> list[NormalizedText]:
    """`normalize` over a batch, in order (what the detectors share for one batch of messages)."""
    return [normalize(text) for text in texts]
