"""The text the classifiers read: one fold shared by training, scoring and explanations.

`fold` is the single place to swap in the lexicon's normalizer (policies/detectors/normalize.py,
issue 11 item 1) when it lands: char n-grams are robust to typos but not to case, accents or
stretched letters, so those are folded away before vectorizing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# Combining diacritical marks only (U+0300..U+036F): "não" -> "nao". Wider classes would also strip
# the vowel signs and viramas of Devanagari, which change the word rather than accent it.
_ACCENTS = re.compile("[\u0300-\u036f]")
# "apagaaaa", "kkkkkk", "😂😂😂😂": three or more of one character read like two.
_STRETCHED = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"\S+")


def fold(text: str) -> str:
    """Casefold, strip accents, shorten stretched letters. Whitespace stays where it was."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    if not folded.isascii():
        folded = _ACCENTS.sub("", folded)
    return _STRETCHED.sub(r"\1\1", folded)


def tokens(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, folded word) for each whitespace-separated word of the ORIGINAL text.

    The vectorizer's char_wb n-grams never cross whitespace, so every n-gram of `fold(text)` comes
    from exactly one of these words: that is what lets an explanation point at the words.
    """
    for match in _TOKEN.finditer(text):
        yield match.start(), match.end(), fold(match.group())
