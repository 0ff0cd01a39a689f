"""The retention rules as plain data: the regulations' presets and floors, a period below the
floor refused with a sentence naming both, the longest applicable policy wins, no policy keeps
for ever, and periods count from the WhatsApp time by calendar years."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.retention.rules import (
    PRESETS,
    PolicyTerms,
    RetentionRuleError,
    Scope,
    add_years,
    applies,
    check_years,
    cutoff,
    governing,
    preset_of,
    retain_until,
)

SENT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "regulation", "years", "floor", "accessible"),
    [
        ("sec_17a4_b4", "SEC Rule 17a-4(b)(4)", 3, 3, 2),
        ("sec_17a4_a", "SEC Rule 17a-4(a)", 6, 6, 2),
        ("finra_4511", "FINRA Rule 4511(b)", 6, 6, 6),
        ("mifid_ii", "MiFID II Art. 16(7)", 5, 5, 5),
        ("cftc_1_31", "CFTC Rule 1.31", 5, 5, 2),
    ],
)
def test_each_preset_carries_its_regulation_period_and_floor(
    code, regulation, years, floor, accessible
):
    preset = PRESETS[code]
    assert preset.regulation.startswith(regulation)
    assert (preset.years, preset.floor_years, preset.accessible_years) == (years, floor, accessible)
    check_years(preset=preset, years=years)  # the preset's own period is allowed


def test_mifid_may_be_lengthened_to_seven_years_on_request():
    check_years(preset=PRESETS["mifid_ii"], years=7)
    assert "7" in PRESETS["mifid_ii"].note


@pytest.mark.parametrize(
    ("code", "years", "message"),
    [
        ("sec_17a4_a", 5, "SEC Rule 17a-4(a) requires at least 6 years; 5 would be shorter"),
        ("sec_17a4_b4", 2, "SEC Rule 17a-4(b)(4) requires at least 3 years; 2 would be"),
        ("mifid_ii", 4, "Delegated Regulation (EU) 2017/565 Art. 76 requires at least 5 years"),
        ("cftc_1_31", 0, "CFTC Rule 1.31 requires at least 5 years; 0 would"),
        ("finra_4511", 1, "FINRA Rule 4511(b) requires at least 6 years"),
    ],
)
def test_a_period_below_the_floor_is_refused_naming_the_floor_and_the_rule(code, years, message):
    with pytest.raises(RetentionRuleError) as refused:
        check_years(preset=PRESETS[code], years=years)
    assert message in refused.value.message
    assert refused.value.field == "years"


def test_an_absurd_period_and_an_unknown_preset_are_refused():
    with pytest.raises(RetentionRuleError, match="At most 100 years"):
        check_years(preset=PRESETS["finra_4511"], years=600)
    with pytest.raises(RetentionRuleError, match="Unknown preset 'sec'"):
        preset_of("sec")


def terms(pid: int, years: int, scope: Scope, team: int | None = None, region: str = ""):
    return PolicyTerms(pid, "firm", years, scope, team_id=team, region=region)


def test_the_longest_applicable_policy_wins():
    policies = [
        terms(1, 3, Scope.TENANT),
        terms(2, 6, Scope.TEAM, team=7),
        terms(3, 5, Scope.REGION, region="PT"),
    ]
    assert governing(policies, team_id=7, region="BR").policy_id == 2  # team 6 > firm 3
    assert governing(policies, team_id=None, region="pt").policy_id == 3  # Portugal 5 > 3
    assert governing(policies, team_id=8, region="US").policy_id == 1  # the firm's only
    assert retain_until(SENT, policies, team_id=7, region="PT") == datetime(
        2032, 5, 1, 10, 0, tzinfo=UTC
    )


def test_a_tie_is_decided_by_the_older_policy_and_no_policy_keeps_for_ever():
    assert governing([terms(5, 6, Scope.TENANT), terms(4, 6, Scope.TENANT)],
                     team_id=None, region="").policy_id == 4  # fmt: skip
    assert governing([terms(1, 3, Scope.TEAM, team=7)], team_id=None, region="BR") is None
    assert retain_until(SENT, [], team_id=None, region="BR") is None


def test_a_scope_applies_only_to_its_team_or_country():
    assert applies(terms(1, 3, Scope.TENANT), team_id=None, region="")
    assert not applies(terms(1, 3, Scope.TEAM, team=7), team_id=None, region="")
    assert not applies(terms(1, 3, Scope.REGION, region="BR"), team_id=None, region="")


def test_years_are_calendar_years_from_the_whatsapp_time_leap_day_included():
    assert add_years(SENT, 6) == datetime(2032, 5, 1, 10, 0, tzinfo=UTC)
    leap = datetime(2028, 2, 29, 8, 0, tzinfo=UTC)
    assert add_years(leap, 1) == datetime(2029, 2, 28, 8, 0, tzinfo=UTC)
    assert cutoff(datetime(2029, 2, 28, 8, 0, tzinfo=UTC), 1) == datetime(
        2028, 2, 28, 8, 0, tzinfo=UTC
    )
    assert cutoff(leap, 1) == datetime(2027, 2, 28, 8, 0, tzinfo=UTC)
