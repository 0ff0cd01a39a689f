"""The text the classifiers read: one fold shared by training, scoring and explanations.

`fold` is the single place to swap in the lexicon's normalizer (policies/detectors/normalize.py,
issue 11 item 1) when it lands: char n-grams are robust to typos but not to case, accents or
stretched letters, so those are folded away before vectorizing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# What the detectors' normalize (policies/detectors/normalize.py) drops, so a classifier reads a
# word as the lexicon does: the generic combining diacritics ("não" -> "nao"; not the vowel signs
# and viramas of Devanagari, which change the word rather than accent it), variation selectors,
# and the invisible format characters (Unicode category Cf: zero-width space and joiners, bidi
# marks, soft hyphen, BOM, tags), so "guar\u200banteed" is "guaranteed" and not two unknown halves.
# Listed, not computed from unicodedata at import (a scan of 1.1M code points);
# tests/policies/test_ml_fold.py checks the list against every Cf character Python knows.
_ACCENTS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f"
    "\U000e0100-\U000e01ef"  # the diacritic blocks and variation selectors normalize drops
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"  # category Cf
)
# "apagaaaa", "kkkkkk", "😂😂😂😂": three or more of one character read like two.
_STRETCHED = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"\S+")


def fold(text: str) -> str:
    """Casefold, strip accents, shorten stretched letters. Whitespace stays where it was."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    if not folded.isascii():
        folded = _ACCENTS.sub("", folded)
    # Searched first: most texts stretch nothing, and a search is cheaper than a sub that
    # finds nothing (the sub expands its template in Python on every call).
    return _STRETCHED.sub(r"\1\1", folded) if _STRETCHED.search(folded) else folded


def tokens(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, folded word) for each whitespace-separated word of the ORIGINAL text.

    The vectorizer's char_wb n-grams never cross whitespace, so every n-gram of `fold(text)` comes
    from exactly one of these words: that is what lets an explanation point at the words.
    """
    for match in _TOKEN.finditer(text):
        yield match.start(), match.end(), fold(match.group())


# Words that turn what follows them around: "no one can guarantee returns", "não apaga nada",
# "nunca te prometí", "ye baat mat batana". English contractions fold to two words ("don't" ->
# "don", "t"), so a lone "t" after a word ending in "n" negates too. "no" is English and Spanish.
NEGATORS = frozenset(
    {
        # en
        "not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "cannot",
        "dont", "doesnt", "didnt", "cant", "wont", "isnt", "arent", "wasnt", "shouldnt",
        "without",
        # pt (accents folded: "não" -> "nao")
        "nao", "nunca", "nem", "ninguem", "jamais", "sem", "nenhum", "nenhuma",
        # es
        "ni", "jamas", "nadie", "sin", "ningun", "ninguna", "ninguno",
        # hinglish
        "nahi", "nahin", "nhi", "mat", "bina",
    }
)  # fmt: skip
# Hindi negates after the word too: "guaranteed nahi hai", "delete nahi karunga". The word just
# before one of these (in the same clause) is in scope as well as the words after it.
POSTPOSED = frozenset({"nahi", "nahin", "nhi"})
NEGATED = "neg_"
# The scope of a negator ends at punctuation or a line break ("don't worry. I guarantee it").
_WORD = re.compile(r"(?u)\w+")
_STOPS = ".,;:!?¡¿…\n"
_WORD_OR_STOP = re.compile(r"(?u)\w+|[" + re.escape(_STOPS) + "]")


def word_tokens(folded: str, *, negation: bool = False) -> list[str]:
    """The words of already folded text (letter/digit runs), in order; with `negation`, each word
    in the scope of a negator (after it, up to punctuation) carries the NEG_ prefix, so "no one
    can guarantee" and "I can guarantee" give the word block different features. The negators
    themselves stay bare. Same length and order as `\\w+` over the text, so explanations map each
    feature back to its word."""
    if not negation:
        return _WORD.findall(folded)
    found = _WORD_OR_STOP.findall(folded)
    if NEGATORS.isdisjoint(found) and "t" not in found:
        return [token for token in found if token not in _STOPS]
    out: list[str] = []
    negated = False
    previous = ""
    for token in found:
        if token in _STOPS:
            negated = False
            previous = ""
            continue
        if token in NEGATORS or (token == "t" and previous.endswith("n")):
            if token in POSTPOSED and previous and previous not in NEGATORS:
                out[-1] = NEGATED + previous
            out.append(token)
            negated = True
        else:
            out.append(NEGATED + token if negated else token)
        previous = token
    return out


def negated_words(folded: str) -> list[bool] | None:
    """For each whitespace-separated word of already folded text, whether it stands in a
    negator's scope (its first letter/digit run is one `word_tokens` marks NEG_); None when the
    text has no negator at all, the usual case, so callers skip the work.

    The char n-gram block reads whole words, so this is the word-level view of the same scopes:
    "rentabilidad no garantizada" gives [False, False, True].
    """
    found = _WORD.findall(folded)
    if NEGATORS.isdisjoint(found) and "t" not in found:
        return None
    flags: list[bool] = []
    negated = False
    previous = ""
    previous_word = -1  # the whitespace word holding `previous`
    for number, word in enumerate(folded.split()):
        flag: bool | None = None
        for token in _WORD_OR_STOP.findall(word):
            if token in _STOPS:
                negated = False
                previous = ""
                continue
            negator = token in NEGATORS or (token == "t" and previous.endswith("n"))
            if token in POSTPOSED and previous and previous not in NEGATORS:
                if previous_word < number:
                    flags[previous_word] = True
                else:  # "guaranteed-nahi": one whitespace word
                    flag = True
            if flag is None:
                flag = negated and not negator
            negated = negated or negator
            previous, previous_word = token, number
        flags.append(bool(flag))
    return flags
