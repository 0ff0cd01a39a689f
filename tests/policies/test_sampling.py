"""Supervision sampling: the share is the rate, the same messages every time, in every process."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from policies.detectors import sampling

ROOT = Path(__file__).resolve().parents[2]
SEED = "policy-7f3a-seed"


def sampled_ids(count: int, *, rate: float, seed: str = SEED, employee: int = 1) -> set[int]:
    keys = [(employee, f"wamid.{n}") for n in range(count)]
    found = sampling.detect(keys, seed=seed, rate=rate)
    return {n for n, findings in enumerate(found) if findings}


def test_the_sample_takes_the_rate_of_messages() -> None:
    count, rate = 200_000, 0.02
    taken = len(sampled_ids(count, rate=rate))
    spread = math.sqrt(count * rate * (1 - rate))  # binomial standard deviation, about 63
    assert abs(taken - count * rate) < 5 * spread


def test_draws_are_uniform_over_ten_bins() -> None:
    count, bins = 100_000, 10
    tally = [0] * bins
    for n in range(count):
        tally[int(sampling.draw(seed=SEED, employee_id=3, message_id=n) * bins)] += 1
    expected = count / bins
    chi_square = sum((seen - expected) ** 2 / expected for seen in tally)
    assert chi_square < 33.7  # chi-square with 9 degrees of freedom at p = 0.0001


def test_every_employee_gets_the_rate_not_only_the_busy_ones() -> None:
    rate, per_employee = 0.1, 3_000
    spread = math.sqrt(per_employee * rate * (1 - rate))
    for employee in range(40):
        taken = len(sampled_ids(per_employee, rate=rate, employee=employee))
        assert abs(taken - per_employee * rate) < 5 * spread, employee


def test_two_employees_samples_are_unrelated() -> None:
    first = sampled_ids(20_000, rate=0.1, employee=1)
    second = sampled_ids(20_000, rate=0.1, employee=2)
    overlap = len(first & second)
    assert abs(overlap - 20_000 * 0.01) < 5 * math.sqrt(20_000 * 0.01)


def test_another_seed_draws_another_sample() -> None:
    first = sampled_ids(20_000, rate=0.1)
    other = sampled_ids(20_000, rate=0.1, seed="another-policy")
    assert first != other
    assert len(first & other) < 20_000 * 0.01 + 5 * math.sqrt(20_000 * 0.01)


def test_the_same_inputs_give_the_same_sample_every_time() -> None:
    assert sampled_ids(5_000, rate=0.05) == sampled_ids(5_000, rate=0.05)


def test_raising_the_rate_keeps_every_message_already_sampled() -> None:
    two, five = sampled_ids(20_000, rate=0.02), sampled_ids(20_000, rate=0.05)
    assert two < five


def test_rates_zero_and_one_take_nothing_and_everything() -> None:
    assert sampled_ids(2_000, rate=0) == set()
    assert sampled_ids(2_000, rate=1) == set(range(2_000))


# Known answers: the draw depends on nothing but its inputs (no per-process hash salt, no
# platform). If these change, every policy's past samples change: that is a data migration.
KNOWN = [
    (("policy-seed-1", 42, "wamid.HBgLNTUxMTk4NzY1NDMyMRUCABEYEjA="), 0.4598165491211794),
    ((b"k", "e", "m"), 0.23505763316560507),
]


@pytest.mark.parametrize(("inputs", "expected"), KNOWN)
def test_draws_match_their_known_answers(
    inputs: tuple[str | bytes, int | str, str], expected: float
) -> None:
    seed, employee, message = inputs
    assert sampling.draw(seed=seed, employee_id=employee, message_id=message) == expected


def test_another_process_with_another_hash_salt_draws_the_same() -> None:
    code = (
        "import json; from policies.detectors import sampling;"
        "print(json.dumps([sampling.draw(seed='policy-seed-1', employee_id=42, message_id=n)"
        " for n in range(50)]))"
    )
    runs = []
    for salt in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": salt},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        runs.append(json.loads(done.stdout))
    here = [sampling.draw(seed="policy-seed-1", employee_id=42, message_id=n) for n in range(50)]
    assert runs[0] == runs[1] == here


def test_an_employee_id_as_number_or_text_is_the_same_employee() -> None:
    assert sampling.draw(seed=SEED, employee_id=7, message_id="m1") == sampling.draw(
        seed=SEED, employee_id="7", message_id="m1"
    )


def test_ids_cannot_run_into_each_other() -> None:
    assert sampling.draw(seed=SEED, employee_id="ab", message_id="c") != sampling.draw(
        seed=SEED, employee_id="a", message_id="bc"
    )


def test_a_long_seed_works_and_differs_from_its_prefix() -> None:
    long_seed = "s" * 200
    assert sampling.draw(seed=long_seed, employee_id=1, message_id=1) != sampling.draw(
        seed=long_seed[:64], employee_id=1, message_id=1
    )


def test_the_finding_says_why_the_message_is_in_the_queue() -> None:
    found = sampling.detect([(1, n) for n in range(2_000)], seed=SEED, rate=0.02)
    finding = next(findings[0] for findings in found if findings)
    assert finding.category == "sampled"
    assert finding.detector == "sampling"
    assert finding.score == 1.0
    assert finding.spans == ()
    assert finding.explanation == "Selected for routine review: 2% sample."
    assert finding.attributes["rate"] == "2%"
    assert float(finding.attributes["draw"]) < 0.02


@pytest.mark.parametrize(
    ("rate", "shown"), [(0.02, "2%"), (0.005, "0.5%"), (1 / 3, "33.33%"), (1, "100%"), (0, "0%")]
)
def test_rates_read_as_percentages(rate: float, shown: str) -> None:
    assert sampling.describe_rate(rate) == shown


def test_a_decimal_rate_from_the_policy_document_is_accepted() -> None:
    assert sampled_ids(2_000, rate=Decimal("0.02")) == sampled_ids(2_000, rate=0.02)


@pytest.mark.parametrize("rate", [-0.01, 1.5, float("nan"), float("inf")])
def test_a_rate_outside_zero_to_one_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        sampling.detect([(1, 1)], seed=SEED, rate=rate)


@pytest.mark.parametrize("rate", ["2%", None, True])
def test_a_rate_that_is_not_a_number_is_refused(rate: object) -> None:
    with pytest.raises(TypeError, match="number between 0 and 1"):
        sampling.is_sampled(seed=SEED, employee_id=1, message_id=1, rate=rate)


@pytest.mark.parametrize("seed", ["", b""])
def test_an_empty_seed_is_refused(seed: str | bytes) -> None:
    with pytest.raises(ValueError, match="seed"):
        sampling.detect([(1, 1)], seed=seed, rate=0.5)


def test_odd_ids_are_drawn_like_any_other() -> None:
    keys = [("😀", "\x00" * 10), ("", ""), ("é" * 10_000, "wamid." + "A" * 100_000)]
    assert len(sampling.detect(keys, seed=SEED, rate=0.5)) == 3
