"""Retention rules as plain data: the regulations' presets, their floors, which policies apply
to a message and how long it is kept. No database here (archive/retention/selectors.py turns
the same rules into queries).

The figures and their sources are those of shared/reference/archive-and-export.md section 4.1:

- SEC Rule 17a-4(b)(4) (communications "relating to its business as such"): 3 years, the first
  2 in an easily accessible place.
- SEC Rule 17a-4(a) (blotters, ledgers): 6 years, the first 2 easily accessible.
- FINRA Rule 4511(b) (records with no period of their own): 6 years, kept as 17a-4 says.
- MiFID II Art. 16(7) with Delegated Regulation (EU) 2017/565 Art. 76(8): 5 years, up to 7
  where the competent authority asks (a firm records that by lengthening the policy to 7).
- CFTC Rule 1.31: 5 years (swap records: the life of the swap plus 5 years, not modelled here:
  a message is not a swap), readily accessible the first 2.

Semantics (Microsoft Purview's "principles of retention", section 4.2): retention wins over
deletion, and when several policies apply to a message the longest wins. A message no policy
applies to is kept for ever: forgetting to configure retention must never destroy records.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_YEARS = 100  # a typo guard ("60" for "6" passes; "600" does not)


class RetentionRuleError(ValueError):
    """A policy the rules refuse, with the sentence that says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Scope(StrEnum):
    TENANT = "tenant"
    TEAM = "team"
    REGION = "region"


@dataclass(frozen=True)
class Preset:
    code: str
    name: str  # how the pages name it
    regulation: str  # the citation, as a refusal or an erasure decision writes it out
    years: int  # the preset's period
    floor_years: int  # no policy of this preset may be shorter
    accessible_years: int  # kept "easily accessible" (nothing here is ever less accessible)
    note: str = ""


PRESETS: dict[str, Preset] = {
    preset.code: preset
    for preset in (
        Preset(
            code="sec_17a4_b4",
            name="SEC 17a-4(b)(4): business communications",
            regulation="SEC Rule 17a-4(b)(4)",
            years=3,
            floor_years=3,
            accessible_years=2,
        ),
        Preset(
            code="sec_17a4_a",
            name="SEC 17a-4(a): blotters and ledgers",
            regulation="SEC Rule 17a-4(a)",
            years=6,
            floor_years=6,
            accessible_years=2,
        ),
        Preset(
            code="finra_4511",
            name="FINRA 4511: books and records",
            regulation="FINRA Rule 4511(b)",
            years=6,
            floor_years=6,
            accessible_years=6,
        ),
        Preset(
            code="mifid_ii",
            name="MiFID II: recorded communications",
            regulation="MiFID II Art. 16(7) and Delegated Regulation (EU) 2017/565 Art. 76",
            years=5,
            floor_years=5,
            accessible_years=5,
            note="Up to 7 years where the competent authority asks: set the years to 7.",
        ),
        Preset(
            code="cftc_1_31",
            name="CFTC 1.31: regulatory records",
            regulation="CFTC Rule 1.31",
            years=5,
            floor_years=5,
            accessible_years=2,
        ),
        Preset(
            code="firm",
            name="The firm's own policy",
            regulation="the firm's own retention policy",
            years=1,
            floor_years=1,
            accessible_years=1,
            note="No regulation behind it: at least one year.",
        ),
    )
}


@dataclass(frozen=True)
class PolicyTerms:
    """What the rules need of a policy: its preset, its years and where it applies."""

    policy_id: int
    preset: str
    years: int
    scope: Scope
    team_id: int | None = None
    region: str = ""


def preset_of(code: str) -> Preset:
    try:
        return PRESETS[code]
    except KeyError:
        raise RetentionRuleError(
            "preset", f"Unknown preset {code[:40]!r}; choose one of {', '.join(PRESETS)}."
        ) from None


def check_years(*, preset: Preset, years: int) -> None:
    """Refuse a period below the preset's regulatory floor (or an absurd one), naming both."""
    if years < preset.floor_years:
        raise RetentionRuleError(
            "years",
            f"{preset.regulation} requires at least {preset.floor_years} years; "
            f"{years} would be shorter than that floor.",
        )
    if years > MAX_YEARS:
        raise RetentionRuleError("years", f"At most {MAX_YEARS} years.")


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar day ``years`` later; 29 February becomes 28 February in a common year
    (the same rule as :func:`cutoff`, so the page's dates and the disposition agree)."""
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])
    return moment.replace(year=year, day=day)


def applies(terms: PolicyTerms, *, team_id: int | None, region: str) -> bool:
    """Whether the policy covers a message of an employee of ``team_id`` in ``region``."""
    if terms.scope is Scope.TENANT:
        return True
    if terms.scope is Scope.TEAM:
        return terms.team_id is not None and terms.team_id == team_id
    return bool(terms.region) and terms.region == region.upper()


def governing(
    policies: Iterable[PolicyTerms], *, team_id: int | None, region: str
) -> PolicyTerms | None:
    """The policy that decides how long a message of an employee (team, region) is kept: the
    longest of those that apply (ties: the lowest id, so the answer is stable); None when none
    applies, which means keep for ever."""
    matching = [p for p in policies if applies(p, team_id=team_id, region=region)]
    if not matching:
        return None
    return max(matching, key=lambda p: (p.years, -p.policy_id))


def retain_until(
    whatsapp_time: datetime, policies: Iterable[PolicyTerms], *, team_id: int | None, region: str
) -> datetime | None:
    """When a message sent at ``whatsapp_time`` may be disposed of; None: never (no policy).

    Counted from the WhatsApp time (when the message was sent), not from when we received it:
    the regulations count from the record's making, and a history back-fill received years
    later must not extend (or a clock problem shorten) what the rule says."""
    policy = governing(policies, team_id=team_id, region=region)
    return None if policy is None else add_years(whatsapp_time, policy.years)


def cutoff(now: datetime, years: int) -> datetime:
    """Messages sent before this moment are past a ``years`` period at ``now``."""
    year = now.year - years
    day = min(now.day, calendar.monthrange(year, now.month)[1])
    return now.replace(year=year, day=day)
