"""The classifiers' fold (policies/ml/text.py) drops what the detectors' normalize drops: invisible
format characters and the generic diacritic blocks. Before, "guar\u200banteed" reached the
classifiers as two unknown halves while the lexicon read "guaranteed"."""

from __future__ import annotations

import sys
import unicodedata

import numpy as np
import pytest

from policies.detectors.normalize import normalize
from policies.ml.corpus import Example
from policies.ml.model import Params, train
from policies.ml.text import fold, tokens

INVISIBLE = [
    chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"
]


def test_every_invisible_format_character_is_dropped() -> None:
    assert INVISIBLE  # the list is Python's own, so it grows with its Unicode version
    kept = [f"U+{ord(c):04X}" for c in INVISIBLE if fold(f"guar{c}anteed") != "guaranteed"]
    assert kept == []


@pytest.mark.parametrize(
    "text",
    [
        "guar\u200banteed returns",  # zero-width space
        "GUAR\u00adANTEED returns",  # soft hyphen
        "\ufeffgarantido \u200d\u200c100%",  # BOM, joiners
        "rentabilidad gara\u0301ntizada",  # decomposed accent
        "garanti\u1dc4do",  # a mark from the supplement block
        "✅\ufe0f feito",  # emoji presentation selector
        "aksar पैसा मिलेगा",  # Devanagari's vowel signs are kept by both
    ],
)
def test_fold_agrees_with_the_detectors_normalize(text: str) -> None:
    assert fold(text) == normalize(text).text


def test_a_hidden_zero_width_space_scores_like_the_plain_word() -> None:
    lines = [
        ("I guaranteed 12% returns to him", ["guarantee"]),
        ("guaranteed returns, zero risk", ["guarantee"]),
        ("returns are guaranteed, sign today", ["guarantee"]),
        ("this fund is guaranteed to beat the index", ["guarantee"]),
        ("guaranteed profit every month", ["guarantee"]),
        ("past returns do not predict future returns", []),
        ("lunch at one?", []),
        ("send me the deck", []),
        ("the meeting moved to 3", []),
        ("the fund returned 6% last year", []),
    ]
    examples = [
        Example(
            text, "en", tuple(labels), f"g{i % 5}", "positive" if labels else "ordinary", "test"
        )
        for i, (text, labels) in enumerate(lines * 3)
    ]
    model, _ = train(examples, ["guarantee"], Params(c=1.0, folds=2))
    plain, hidden = model.predict_proba(["guaranteed returns", "guar\u200banteed returns"])
    assert plain[0] > 0.5
    assert hidden[0] == pytest.approx(plain[0], abs=1e-6)
    # The explanation still points at the word as written, invisible character and all.
    [(start, end, word), _] = list(tokens("guar\u200banteed returns"))
    assert (start, end, word) == (0, 11, "guaranteed")
    assert np.isfinite(hidden).all()
