"""Hostile text in every field a person or WhatsApp can write is shown as text, never run.

The walk fills a firm with rows of every tenant-owned model (tests/tenant_rows.py), then writes a
distinct hostile marker into every free-text column of those rows: every CharField and TextField
of every tenant-owned model (and the firm's name and the users' names), read from the models at
run time, so a field added later is poisoned without editing this file; only the machine values
named in MACHINE_VALUES (hashes, ids, codes we write) keep theirs. Prose inside JSON columns
(policy documents, captions, audit details) is poisoned too. Then it walks every page of the route
walker (tests/routes.py) and every page those link to (detail pages, conversations, alerts,
downloads) as the firm's admin, officer and auditor, and parses each HTML answer: no <script>
element, on* attribute or javascript: link that we did not write (our pages have none at all:
the CSP forbids them). JSON answers must say they are JSON; CSV answers must be CSV whose cells
cannot start a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.test import Client
from django.urls import Resolver404, resolve

from compliance_hub.accounts.models import User
from compliance_hub.api.keys import issue_api_key
from compliance_hub.audit.actors import Actor
from compliance_hub.db_roles import set_role
from compliance_hub.tenancy.models import Role, Tenant
from tests.fixtures import login
from tests.routes import PLAIN_ROUTES
from tests.tenant_rows import make_rows_for

# Columns that hold values we write or that WhatsApp defines as identifiers, not text anyone
# types: hostile text there is not a case the product meets (and some, like an encrypted secret
# or a stored file's path, would only break reading the row). Everything else is poisoned.
MACHINE_VALUES = {
    "action", "baseline_version", "business_phone_number_id", "call_id", "counterparty_key",
    "dedupe_key", "digest", "direction", "event", "event_key", "group_key", "key_hash", "key_id",
    "kind", "media_id", "meta_sha256", "pack", "phone_number_id", "prefix", "private_key",
    "reason@ingestion.Refusal", "record_table", "region", "severity", "signature", "skipped",
    "sklearn_version", "slug", "status", "storage_name", "target_id", "target_type",
    "target_wamid", "tenant_slug", "time_zone", "token_hash", "type", "version", "wamid",
    "whatsapp_phone_number_id", "withdrawal_token_hash", "password", "language", "mime_type",
    # Search queries are parsed when saved, so a stored one is a valid query; hostile text in a
    # query is walked through the search page instead (the seeds of the test).
    "query",
}  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
IDENTIFIER = re.compile(r"[A-Za-z0-9_.:/+-]*")
ROLES = {"admin": Role.ADMIN, "officer": Role.OFFICER, "auditor": Role.AUDITOR}
# Pages that end the session or belong to the platform operator, not to a firm's people.
NOT_WALKED = ("/accounts/logout/", "/admin/", "/webhooks/", "/static/")
PER_ROUTE = 3  # pages walked per route and set of query parameters
# allauth's pages and the API's own pages are the same for every role: walked as the admin only.
ADMIN_ONLY = ("/accounts/", "/api/")
SHOWN_AT_LEAST = {
    "archive.Message.text", "archive.MessageEvent.payload", "archive.Attachment.filename",
    "archive.Conversation.counterparty_name", "consent.Employee.full_name", "consent.Team.name",
    "alerts.AlertComment.body", "alerts.Alert.rationale", "alerts.NoticeTemplate.body",
    "policies.Policy.name", "policies.PolicyVersion.document", "compliance_hub.ApiKey.name",
    "compliance_hub.Tenant.name", "compliance_hub.User.full_name", "archive.SavedSearch.name",
    "archive.LegalHold.matter", "compliance_hub.AuditEvent.details",
}  # fmt: skip


def _is_machine(model: type[models.Model], field: models.Field) -> bool:
    return (
        field.name in MACHINE_VALUES
        or f"{field.name}@{model._meta.label}" in MACHINE_VALUES
        or field.name.endswith(("sha256", "_encrypted", "_hash"))
    )


def _markers(n: int) -> list[str]:
    """The markers of field number n, richest first. Even fields start with javascript: (for a
    field shown as a link), odd ones with a spreadsheet formula character (for CSV exports)."""
    start = "javascript:" if n % 2 == 0 else FORMULA_STARTS[n // 2 % 4]
    return [
        f'{start}x{n}()//"><img src=x onerror=x{n}()><script>x{n}()</script>tpl{n}q{{{{7*7}}}}',
        f'{start}x{n}()//"><img src=x onerror=x{n}()><script>x{n}()</script>',
        f'{start}"><img src=x onerror=x{n}()>',
        f'"><img src=x onerror=x{n}()>',
        f'<b onclick="x{n}()">',
    ]


def _fits(n: int, max_length: int | None, row: int) -> str | None:
    """The richest marker of field n that fits the column, made unique to the row (for the
    columns that are unique within a firm)."""
    suffix = f" r{row}"
    fitting = (m + suffix for m in _markers(n))
    return next((m for m in fitting if max_length is None or len(m) <= max_length), None)


def _poison_json(value: object, n: int) -> object:
    """Every prose string in a JSON value replaced by the field's marker; keys, numbers and
    identifier-like strings (detector names, severities, codes) kept, so the row still works."""
    if isinstance(value, dict):
        return {key: _poison_json(item, n) for key, item in value.items()}
    if isinstance(value, list):
        return [_poison_json(item, n) for item in value]
    if isinstance(value, str) and not IDENTIFIER.fullmatch(value):
        return _markers(n)[0]
    return value


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not f.choices
        and not f.primary_key
        and not _is_machine(model, f)
    ]


def _poisoned_models() -> list[type[models.Model]]:
    tenant_owned = [
        m for m in apps.get_models() if "tenant" in {f.name for f in m._meta.concrete_fields}
    ]
    return [Tenant, User, *tenant_owned]


def _update(rows: models.QuerySet, values: dict[str, object], row: models.Model) -> None:
    """Every column poisoned, or, where a check constraint ties an empty column to the row's
    state (a hold's release fields), the columns that had a value."""
    try:
        with transaction.atomic():
            rows.update(**values)
    except IntegrityError:
        rows.update(**{name: v for name, v in values.items() if getattr(row, name)})


def poison(tenant: Tenant) -> dict[int, str]:
    """Writes the markers into every free-text column of the firm's rows, as the tables' owner
    with their append-only triggers off for this test's transaction (rolled back after it).
    Returns field number -> "app.Model.field", to name the field a leaking marker came from."""
    fields: dict[int, str] = {}
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        # Deferred foreign-key checks still pending would forbid the ALTER TABLEs below.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
        for model in _poisoned_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            manager = getattr(model, "all_tenants", model._base_manager)
            if model is Tenant:
                rows = manager.filter(pk=tenant.pk)
            elif model is User:
                rows = manager.filter(memberships__tenant=tenant)
            else:
                rows = manager.filter(tenant=tenant)
            numbered = []
            for field in _text_fields(model):
                numbered.append((len(fields), field))
                fields[len(fields)] = f"{model._meta.label}.{field.name}"
            for row in rows:
                values = {}
                for n, field in numbered:
                    if isinstance(field, models.JSONField):
                        values[field.name] = _poison_json(getattr(row, field.attname), n)
                    elif (marker := _fits(n, field.max_length, row.pk)) is not None:
                        values[field.name] = marker
                if values:
                    _update(manager.filter(pk=row.pk), values, row)
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    set_role(connection, settings.DB_APP_ROLE)
    return fields


class _Page(HTMLParser):
    """What an HTML page would run, and the same-site links it offers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction", "xlink:href", "data"):
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if scheme.startswith(("javascript:", "data:text/html")):
                    self.problems.append(f"<{tag} {name}={value!r}>")
                if tag == "a" and name == "href" and value.startswith("/"):
                    self.links.append(value)
        if tag == "script":
            a = dict(attrs)
            if a.get("src"):
                src = str(a["src"])
                if not src.startswith("/") or src.startswith("//"):  # ours: same site
                    self.problems.append(f"<script src={src!r}>")
            elif (a.get("type") or "").lower() not in ("application/json",):
                self._script = ""
        if tag in ("iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag} {attrs}>")

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script += data
        self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.problems.append(f"inline <script>{self._script[:80]}</script>")
            self._script = None


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _check(
    url: str, response, fields: dict[int, str], shown: set[int] | None = None
) -> tuple[list[str], list[str]]:
    """The problems of one answer, and the links to walk on; adds to `shown` the fields whose
    marker the page showed as text."""

    def named(problem: str) -> str:
        found = re.search(r"x(\d+)\(\)", problem)
        source = fields.get(int(found.group(1)), "?") if found else "our own page"
        return f"GET {url}: {problem} (from {source})"

    kind = response.get("Content-Type", "").split(";")[0].strip().lower()
    body = _body(response)
    if kind == "text/html":
        page = _Page()
        page.feed(body.decode("utf-8", "replace"))
        text = "".join(page.text)
        if shown is not None:
            shown.update(int(n) for n in re.findall(r"x(\d+)\(\)", text))
        # "tpl", "q": a page's own base64 (a proof's signature) held "t1949" once by chance.
        evaluated = [f"template evaluated: tpl{n}q49" for n in fields if f"tpl{n}q49" in text]
        return [named(p) for p in page.problems + evaluated], page.links
    if kind == "text/csv":
        problems = []
        for row in csv.reader(io.StringIO(body.decode("utf-8-sig", "replace"))):
            for cell in row:
                if cell.startswith(FORMULA_STARTS) and not re.fullmatch(r"-?[\d.]+", cell):
                    problems.append(named(f"CSV cell starts a formula: {cell[:60]!r}"))
        return problems, []
    if b"x0()" in body or b"onerror=x" in body:
        # Our text in an answer that is neither HTML nor CSV: it must say what it is, and a
        # browser must not guess otherwise.
        if kind not in ("application/json", "text/plain", "application/x-ndjson"):
            return [f"GET {url}: hostile text served as {kind!r}"], []
        if response.get("X-Content-Type-Options") != "nosniff":
            return [f"GET {url}: {kind} without X-Content-Type-Options: nosniff"], []
    return [], []


def _walk(
    client: Client, seeds: list[str], fields: dict[int, str], shown: set[int], skip: tuple[str, ...]
) -> tuple[set[str], list[str]]:
    """Every page reachable from the seeds, a few per route; returns the routes walked and the
    problems found."""
    queue, seen, per_route = deque(seeds), set(), Counter()
    routes, problems = set(), []
    while queue:
        url = queue.popleft().split("#")[0]
        parts = urlsplit(url)
        if url in seen or parts.path.startswith(NOT_WALKED + skip):
            continue
        seen.add(url)
        try:
            match = resolve(parts.path)
        except Resolver404:
            continue
        key = (match.route, tuple(sorted({k.split("=")[0] for k in parts.query.split("&")})))
        per_route[key] += 1
        if per_route[key] > PER_ROUTE:
            continue
        response = client.get(url, HTTP_ACCEPT="text/html,application/json;q=0.9,*/*;q=0.8")
        if response.status_code >= 500:
            problems.append(f"GET {url} -> {response.status_code}")
            continue
        if response.status_code != 200:
            continue
        routes.add(match.route)
        found, links = _check(url, response, fields, shown)
        problems += found
        queue.extend(link for link in links if link not in seen)
    return routes, problems


def test_hostile_text_in_every_field_is_shown_as_text_on_every_page(tenant_a, person_factory):
    make_rows_for(tenant_a)
    people = {
        name: person_factory(f"{name}@firm-a.example", tenant=tenant_a, role=role)
        for name, role in ROLES.items()
    }
    key = issue_api_key(tenant=tenant_a, role=Role.ADMIN, name="walk key", actor=Actor.system())
    fields = poison(tenant_a)
    message_field = next(n for n, name in fields.items() if name == "archive.Message.text")
    seeds = ["/" + fmt for fmt, _ in PLAIN_ROUTES]
    hostile_query = f'"<script>x{message_field}()</script>" OR img'
    seeds += [
        f"/archive/search/?{urlencode({'q': q})}" for q in (f"x{message_field}", hostile_query)
    ]

    walked, problems, shown = set(), [], set()
    for name, person in people.items():
        client = Client()
        login(client, person)
        skip = () if name == "admin" else ADMIN_ONLY
        routes, found = _walk(client, seeds, fields, shown, skip)
        walked |= routes
        problems += [f"as {name}: {p}" for p in found]
    for reached in (
        "alerts/<int:pk>/",
        "archive/conversations/<int:pk>/",
        "employees/<int:pk>/",
        "policies/<int:pk>/",
        "archive/holds/<int:pk>/",
    ):
        assert any(route.endswith(reached) for route in walked), (reached, sorted(walked))

    # The walk saw the markers of the fields people write most, as text: it reached them.
    assert not SHOWN_AT_LEAST - {fields[n] for n in shown}, SHOWN_AT_LEAST - {
        fields[n] for n in shown
    }
    api = Client(HTTP_AUTHORIZATION=f"Api-Key {key.plaintext}")
    for fmt, _ in PLAIN_ROUTES:
        if not fmt.startswith("api/v1/"):
            continue
        response = api.get("/" + fmt)
        if response.status_code >= 500:
            problems.append(f"API GET /{fmt} -> {response.status_code}")
        elif response.status_code == 200:
            kind = response.get("Content-Type", "")
            if not kind.startswith(("application/json", "text/csv")):
                problems.append(f"API GET /{fmt}: served as {kind!r}")
            problems += _check("/" + fmt, response, fields)[0]
    assert not problems, "\n".join(dict.fromkeys(problems))
