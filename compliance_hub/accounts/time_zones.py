"""The time zones a person may pick for the pages: IANA names as the standard library knows them
(``zoneinfo`` reads the system's tz database, or the ``tzdata`` package where there is none)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_TIME_ZONE = "UTC"


@cache
def _known() -> frozenset[str]:
    # available_timezones() walks the tz database's folders at every call; once per process is
    # enough (a new tz database arrives with a deployment, which restarts the process).
    return frozenset(available_timezones())


@cache
def time_zone_names() -> tuple[str, ...]:
    # Legacy aliases (US/Eastern, Etc/GMT+3 whose sign is the reverse of what people expect)
    # stay accepted when typed, but the list offers the canonical Area/City names and UTC.
    names = _known()
    offered = sorted(n for n in names if "/" in n and not n.startswith(("Etc/", "SystemV/")))
    return ("UTC", *(n for n in offered if n != "UTC"))


def is_time_zone(name: str) -> bool:
    return name in _known()


def zone(name: str) -> ZoneInfo:
    """The zone called ``name``, or UTC when the name is not (or no longer) a known zone: a tz
    database update that drops a name must not break anyone's pages."""
    return ZoneInfo(name if is_time_zone(name) else DEFAULT_TIME_ZONE)
