"""Supervision sampling: a reproducible random share of an employee's messages for routine review.

Supervisors review a sample of ordinary messages as well as the alerts (FINRA Rule 3110's risk-
based review; an elusion test of what the detectors missed). Whether a message is in the sample is
a pure function of (the policy's seed, the employee, the message, the rate):

    draw = BLAKE2b keyed with the seed, over the employee id and the message id  ->  [0, 1)
    sampled  <=>  draw < rate

* Reproducible: the same inputs give the same answer in every process, on every machine, on every
  rescan (no `random`, no `hash()`, whose strings are salted per process).
* Unpredictable without the seed: a keyed hash, so an employee who knows the rule and the ids
  cannot tell which messages will be read. Each policy keeps its own secret seed.
* Uniform and independent per employee: the employee id is hashed in, so every employee gets the
  rate, not only the busy ones, and two employees' samples are unrelated.
* Monotone in the rate: raising a policy from 2% to 5% keeps every message the 2% sample chose.

The finding's category is `sampled` (detector `sampling`): not a risk category, a reason to show
the message to a reviewer ("Selected for routine review: 2% sample."). Its score is 1: a sampled
message is in the review queue whatever the policy's thresholds.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from decimal import Decimal

from policies.detectors.findings import Finding

DETECTOR = "sampling"
SAMPLED = "sampled"

_DRAW_BYTES = 8
_SCALE = 1 << (8 * _DRAW_BYTES)
# BLAKE2b takes a key of at most 64 bytes; longer seeds are hashed down to one first.
_MAX_KEY = 64

MessageKey = tuple[str | int, str | int]  # (employee id, message id)


def _key(seed: str | bytes) -> bytes:
    raw = seed.encode("utf-8") if isinstance(seed, str) else bytes(seed)
    if not raw:
        raise ValueError("a sampling seed must not be empty: each policy keeps its own secret")
    return raw if len(raw) <= _MAX_KEY else hashlib.blake2b(raw).digest()


def _field(value: str | int) -> bytes:
    # Length-prefixed, so ("ab", "c") and ("a", "bc") never hash alike; ints as their decimal
    # text, so employee 7 and employee "7" are the same employee.
    text = str(value).encode("utf-8")
    return len(text).to_bytes(4, "big") + text


def _check_rate(rate: float | Decimal) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float | Decimal):
        raise TypeError(f"a sampling rate is a number between 0 and 1: got {rate!r}")
    value = float(rate)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"a sampling rate lies between 0 and 1 (0.02 for 2%): got {rate!r}")
    return value


def draw(*, seed: str | bytes, employee_id: str | int, message_id: str | int) -> float:
    """This message's draw in [0, 1): uniform over messages, fixed for the seed."""
    digest = hashlib.blake2b(
        _field(employee_id) + _field(message_id), key=_key(seed), digest_size=_DRAW_BYTES
    ).digest()
    return int.from_bytes(digest, "big") / _SCALE


def is_sampled(
    *, seed: str | bytes, employee_id: str | int, message_id: str | int, rate: float | Decimal
) -> bool:
    """Whether the policy with `seed` and `rate` (0.02 for 2%) samples this message."""
    share = _check_rate(rate)
    return draw(seed=seed, employee_id=employee_id, message_id=message_id) < share


def describe_rate(rate: float | Decimal) -> str:
    """The rate as officers read it: 0.02 -> "2%", 0.005 -> "0.5%", 1/3 -> "33.33%"."""
    return f"{_check_rate(rate) * 100:.4g}%"


def detect(
    messages: Iterable[MessageKey], *, seed: str | bytes, rate: float | Decimal
) -> list[list[Finding]]:
    """For each (employee id, message id), a `sampled` finding if the sample takes it, else none.

    The text plays no part (a sample must not lean towards any wording), so it is not asked for.
    A bad seed or rate raises ValueError before any message is drawn.
    """
    key = _key(seed)
    share = _check_rate(rate)
    explanation = f"Selected for routine review: {describe_rate(share)} sample."
    results: list[list[Finding]] = []
    for employee_id, message_id in messages:
        digest = hashlib.blake2b(
            _field(employee_id) + _field(message_id), key=key, digest_size=_DRAW_BYTES
        ).digest()
        value = int.from_bytes(digest, "big") / _SCALE
        if value < share:
            results.append(
                [
                    Finding(
                        category=SAMPLED,
                        detector=DETECTOR,
                        score=1.0,
                        spans=(),
                        explanation=explanation,
                        attributes={"rate": describe_rate(share), "draw": f"{value:.6f}"},
                    )
                ]
            )
        else:
            results.append([])
    return results
