"""normalize()'s quicker leetspeak patterns for lower-case ASCII text read every word exactly as
the Unicode patterns do (policies/detectors/normalize.py): the speed work changes no text."""

from __future__ import annotations

import json
import random
from pathlib import Path

from policies.detectors import normalize

DATA = Path(__file__).with_name("data")


def test_ascii_leetspeak_patterns_read_as_the_unicode_ones() -> None:
    texts = [json.loads(line)["text"] for line in (DATA / "pii_eval.jsonl").open(encoding="utf-8")]
    rng = random.Random(20261207)
    pieces = ["gu4r4nt33d", "r1sk-fr33", "ORD1034", "10am", "2nd", "5k", "a1", "1a", "_7x", "b0_b"]
    pieces += ["word", "x9y", "3rd", "h3ll0", "abc123def", "12ab", "ab12", "-", " ", ".", "'"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    lowered = [text.lower() for text in texts if text.isascii()]
    assert len(lowered) > 3000
    for text in lowered:
        assert normalize._unleet(text, lower_ascii=True) == normalize._unleet(text), text
