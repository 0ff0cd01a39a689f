"""How a masked reader names, and chooses, the firm's people where they write: a policy's scope
and a legal hold.

In a firm with pseudonymised review, an officer or senior officer who is masked
(compliance_hub/tenancy/walls.py decides who is) reads an employee as the pseudonym the alert
pages show (``Employee 7F3A9C``, compliance_hub/tenancy/pseudonyms.py) and chooses one the same
way; the server turns what they submit back into the employee, inside the firm. A team keeps its
name unless it is small (fewer than SMALL_TEAM active employees: a team of one names its
member): it then reads as ``Small team 19C2AB``, a pseudonym of its own, since a scope may hold
several small teams and each must stay itself when the scope is saved again.

The small-team rule lives here, below the apps, because the alert pages (alerts.masking), the
policy editor and the legal holds all draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from compliance_hub.tenancy.context import read_scope
from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.pseudonyms import client_pseudonym, employee_pseudonym, pseudonym

from .models import Employee, Team
from .selectors import team_list

# A team smaller than this is named to a masked reviewer as "a small team": a team of one names
# its member, and of a handful narrows them down to a guess.
SMALL_TEAM = 5
SMALL_TEAM_WORDS = "a small team"
SMALL_TEAM_KIND = "Small team"


class PseudonymRefused(ValueError):
    """``str(error)`` is the sentence the form shows next to the field."""


def named_teams(tenant: Tenant) -> QuerySet[Team]:
    """The teams a masked reviewer may see by name (and filter the queue by): at least
    SMALL_TEAM active employees."""
    # team_list's annotation (the count the teams page shows), which its return type hides.
    return team_list(tenant=tenant).filter(**{"active_employee_count__gte": SMALL_TEAM})


def team_is_named(team: Team) -> bool:
    """Whether a masked reviewer sees ``team``'s name (one count of its active employees)."""
    return team.employees.filter(active=True).count() >= SMALL_TEAM


def small_team_pseudonym(tenant_id: int, team_id: int) -> str:
    return pseudonym(SMALL_TEAM_KIND, tenant_id, team_id)


def _key(text: str) -> str:
    """What a typed pseudonym is compared by: case and spacing do not matter."""
    return " ".join(text.split()).casefold()


def _reverse(pairs: list[tuple[str, str]]) -> dict[str, str | None]:
    """Pseudonym -> value; None where two share a pseudonym (six hex digits can collide)."""
    found: dict[str, str | None] = {}
    for shown, value in pairs:
        key = _key(shown)
        found[key] = None if key in found and found[key] != value else value
    return found


@dataclass(frozen=True)
class PeopleLens:
    """How one reader reads and writes the firm's people in a scope. ``masked`` False: names and
    firm ids as stored, both ways (admins, auditors, a firm without pseudonymised review)."""

    tenant_id: int
    masked: bool = False
    # Employees: firm id -> pseudonym, id (pk) -> pseudonym, and back.
    _by_firm_id: dict[str, str] = field(default_factory=dict)
    _by_pk: dict[int, str] = field(default_factory=dict)
    _firm_id_of: dict[str, str | None] = field(default_factory=dict)
    _pk_of: dict[str, str | None] = field(default_factory=dict)
    # Teams: a small team's name -> its pseudonym; any team's pseudonym -> its name.
    _small: dict[str, str] = field(default_factory=dict)
    _team_of: dict[str, str | None] = field(default_factory=dict)
    _named: tuple[str, ...] = ()
    _scope_choices: tuple[str, ...] = ()

    # --- reading ------------------------------------------------------------------------------

    def employee(self, firm_id: str) -> str:
        """A scope's employee entry as this reader reads it. An entry that matches no employee
        on file names nobody, and is shown as it is stored."""
        return self._by_firm_id.get(firm_id, firm_id) if self.masked else firm_id

    def employee_by_pk(self, pk: int) -> str:
        """A masked reader's name for the employee of this id (holds keep ids, not firm ids)."""
        return self._by_pk.get(pk, "an employee no longer on file")

    def client(self, counterparty_key: str) -> str:
        """A client as a masked reader reads them (``Client 19C2AB``, as on the alert pages)."""
        return client_pseudonym(self.tenant_id, counterparty_key)

    def team(self, name: str) -> str:
        return self._small.get(name, name) if self.masked else name

    def scope_as_read(self, scope: dict[str, object]) -> dict[str, object]:
        """A policy scope (``employees`` firm ids, ``teams`` names) as this reader reads it;
        other keys, and entries that are not text, are kept as they are."""
        if not self.masked:
            return scope
        shown = dict(scope)
        for key, read in (("employees", self.employee), ("teams", self.team)):
            entries = scope.get(key)
            if isinstance(entries, list):
                shown[key] = [read(e) if isinstance(e, str) else e for e in entries]
        return shown

    @property
    def named_teams(self) -> tuple[str, ...]:
        """The team names a masked reader is offered (small teams are not)."""
        return self._named

    @property
    def employee_choices(self) -> tuple[str, ...]:
        """What a masked reader chooses a scope's employees from: pseudonyms of the employees
        with a firm id, in the order of the rows' ids (the names' order would give them away)."""
        return self._scope_choices

    @property
    def hold_choices(self) -> tuple[str, ...]:
        """What a masked reader chooses a legal hold's employees from (every employee: a hold
        keeps ids), in the rows' order."""
        return tuple(self._by_pk[pk] for pk in sorted(self._by_pk))

    # --- writing ------------------------------------------------------------------------------

    def firm_id_of(self, entry: str, *, kept: frozenset[str] = frozenset()) -> str:
        """The firm id a masked reader's scope entry stands for. ``kept``: entries of the saved
        scope that match no employee (shown to them as stored), which may stay. Raises
        PseudonymRefused for anything else (a name, a firm id, another firm's pseudonym)."""
        if not self.masked:
            return entry
        found = self._firm_id_of.get(_key(entry), "")
        if found:
            return found
        if _key(entry) in self._firm_id_of:
            raise PseudonymRefused(_SHARED.format(entry=entry))
        if entry in kept:
            return entry
        raise PseudonymRefused(
            f"“{entry}” is not one of this firm's employees as you see them: choose employees "
            "by their pseudonym (such as Employee 7F3A9C), as the alert pages show them."
        )

    def pk_of(self, entry: str) -> int:
        """The employee (id) a masked reader's pseudonym stands for, for a legal hold."""
        found = self._pk_of.get(_key(entry), "")
        if found:
            return int(found)
        if _key(entry) in self._pk_of:
            raise PseudonymRefused(_SHARED.format(entry=entry))
        raise PseudonymRefused(
            f"“{entry}” is not one of this firm's employees as you see them: choose them from "
            "the list, by pseudonym."
        )

    def team_name_of(self, entry: str) -> str:
        """The team name a masked reader's scope entry stands for: a small team's pseudonym
        becomes its name; a name is kept as typed (as for any reader)."""
        if not self.masked:
            return entry
        key = _key(entry)
        if key in self._team_of:
            found = self._team_of[key]
            if found is None:
                raise PseudonymRefused(_SHARED.format(entry=entry))
            return found
        return entry

    def scope_as_written(
        self, scope: dict[str, object], *, kept: frozenset[str] = frozenset()
    ) -> tuple[dict[str, object], dict[str, list[str]]]:
        """A masked reader's scope as it is stored, and what was refused, by key (``employees``,
        ``teams``): each refused entry is left as it was typed, for the form to show."""
        if not self.masked:
            return scope, {}
        stored = dict(scope)
        refused: dict[str, list[str]] = {}
        for key, write in (
            ("employees", lambda e: self.firm_id_of(e, kept=kept)),
            ("teams", self.team_name_of),
        ):
            entries = scope.get(key)
            if not isinstance(entries, list):
                continue
            written: list[object] = []
            for entry in entries:
                if not isinstance(entry, str):
                    written.append(entry)
                    continue
                try:
                    written.append(write(entry))
                except PseudonymRefused as error:
                    refused.setdefault(key, []).append(str(error))
                    written.append(entry)
            stored[key] = written
        return stored, refused

    def unmatched(self, scope: dict[str, object]) -> frozenset[str]:
        """The employee entries of a saved scope that match no employee on file: a masked reader
        sees them as stored, so submitting them back keeps them."""
        entries = scope.get("employees")
        if not self.masked or not isinstance(entries, list):
            return frozenset()
        return frozenset(e for e in entries if isinstance(e, str) and e not in self._by_firm_id)


_SHARED = (
    "Two of this firm's employees share the pseudonym “{entry}”: ask an admin, who sees names, "
    "to choose this one."
)


def people_lens(*, tenant: Tenant, masked: bool) -> PeopleLens:
    """The lens of a reader whom the wall masks (``masked``) or not: two queries when masked
    (every employee's pseudonym is drawn, so a typed one can be found), none otherwise."""
    if not masked:
        return PeopleLens(tenant_id=tenant.pk)
    with read_scope(tenant):
        employees = list(Employee.objects.filter(tenant=tenant).values_list("pk", "employee_id"))
        # team_list's annotation (the count the teams page shows), which its return type hides.
        teams: list[tuple[int, str, int]] = list(
            team_list(tenant=tenant).values_list(*("pk", "name", "active_employee_count"))
        )
    by_pk = {pk: employee_pseudonym(tenant.pk, pk) for pk, _ in employees}
    by_firm_id = {firm: by_pk[pk] for pk, firm in employees if firm}
    small = {
        name: small_team_pseudonym(tenant.pk, pk)
        for pk, name, active in teams
        if active < SMALL_TEAM
    }
    small_pk = {name: pk for pk, name, active in teams}
    return PeopleLens(
        tenant_id=tenant.pk,
        masked=True,
        _by_firm_id=by_firm_id,
        _by_pk=by_pk,
        _firm_id_of=_reverse([(shown, firm) for firm, shown in by_firm_id.items()]),
        _pk_of=_reverse([(shown, str(pk)) for pk, shown in by_pk.items()]),
        _small=small,
        # Any team's pseudonym resolves (one that grew since it was shown is still itself).
        _team_of=_reverse(
            [(small_team_pseudonym(tenant.pk, pk), name) for name, pk in small_pk.items()]
        ),
        _named=tuple(name for _, name, active in teams if active >= SMALL_TEAM),
        _scope_choices=tuple(by_pk[pk] for pk, firm in sorted(employees) if firm),
    )
