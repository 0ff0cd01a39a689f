"""Parse an uploaded employee CSV into validated rows and per-row errors.

A pure module (the employee rules of consent/employee_rules.py; no database) behind the two-step
employee import: the admin uploads a file, sees every row and every problem at once, fixes the
file or confirms. Nothing here touches the database; what needs the database comes in as plain data
(``known_teams``, ``existing_employee_ids``) or as one callback (``numbers_in_use``), and the
admin's choices as arguments (``create_teams``).

Contract of :func:`parse_employee_csv`:

* It never raises for bad input; every problem becomes a :class:`RowError` naming the line (1-based,
  the header is normally line 1; 0 for problems with the whole file) and the canonical column.
* File-level problems (size, encoding, header, row count) stop parsing: ``rows`` is then empty.
* A data row with any error is left out of ``rows``; every error of every row is reported, one per
  cell for the cell's own checks, plus cross-row ones (duplicates, numbers in use).
* Values are stripped of surrounding whitespace and otherwise kept as given, except the normalised
  ones documented on :class:`EmployeeRow`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import phonenumbers

from .employee_rules import (
    FILE,
    FORMULA,
    FORMULA_PREFIXES,
    check_employee,
    clean_team_name,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
REQUIRED_COLUMNS = ("full_name", "email", "employee_id", "phone_number")
OPTIONAL_COLUMNS = ("team", "region", "whatsapp_phone_number_id", "language")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Header spellings people actually use, after normalisation (see _normalise_header).
COLUMN_ALIASES = {
    "name": "full_name",
    "e_mail": "email",
    "phone": "phone_number",
    "mobile": "phone_number",
    "whatsapp_number": "phone_number",
    "country": "region",
    "phone_number_id": "whatsapp_phone_number_id",
}

MAX_ERROR_VALUE = 100

NOT_UTF8 = "The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload again."
NUMBER_IN_USE = "This number is already in use."

_DELIMITERS = (",", ";", "\t")
_LINES_SHOWN = 3  # other lines named in a duplicate message
_SNIFF_CHARS = 16 * 1024


@dataclass(frozen=True, slots=True)
class EmployeeRow:
    """A valid row, normalised."""

    line: int  # 1-based line in the file where the row starts (the header is normally line 1)
    full_name: str
    email: str  # lower-cased
    employee_id: str  # as given (compared exactly, case-sensitive)
    team: str  # spelling from known_teams, or of a new team as first written; "" if none
    region: str  # ISO 3166-1 alpha-2, upper-case, "" if none
    phone_number: str  # E.164, e.g. "+5511987654321"
    whatsapp_phone_number_id: str  # digits only, "" if none
    language: str  # one of employee_rules.LANGUAGES


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem for a human admin: where it is, what was there, what is wrong."""

    line: int  # 0 for file-level errors
    column: str  # canonical column name; "" for file- or row-level errors
    value: str  # the offending value, stripped, truncated to MAX_ERROR_VALUE characters
    message: str  # one or two plain sentences


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Valid rows and all errors; ``total_lines`` counts data rows seen (no header, no blanks).
    ``new_teams``: with ``create_teams``, the teams the valid rows name that are not known yet,
    in file order, each once (as first written)."""

    rows: tuple[EmployeeRow, ...]
    errors: tuple[RowError, ...]
    total_lines: int
    new_teams: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when there is no error at all (file-level or in any row)."""
        return not self.errors


def parse_employee_csv(
    data: bytes,
    *,
    known_teams: frozenset[str],
    existing_employee_ids: frozenset[str],
    numbers_in_use: Callable[[list[str]], set[str]] | None = None,
    phone_ids_in_use: Callable[[list[str]], set[str]] | None = None,
    default_region: str = "",
    create_teams: bool = False,
) -> ParseResult:
    """Parse and validate an employee CSV upload.

    ``known_teams`` are the tenant's team names (matched case-insensitively; rows get the spelling
    from this set). ``existing_employee_ids`` are ids already in the tenant (matched exactly).
    ``numbers_in_use`` is called at most once, with the distinct valid E.164 numbers of the file in
    file order (not called when there are none), and returns those already used by another active
    employee of any tenant; its answer is reported only as "This number is already in use.".
    ``phone_ids_in_use`` does the same for the valid WhatsApp phone number ids of the file.
    ``default_region`` (ISO alpha-2) reads numbers written without "+" when the row has no valid
    region; an unknown ``default_region`` is a programming error and raises ``ValueError``.

    The language, when the row has none, follows the row's region, else the phone number's country:
    Portuguese-speaking countries give "pt-br", Spain and Spanish-speaking Latin America "es",
    anything else "en".

    ``create_teams`` (the admin's explicit choice) accepts a team that is not in ``known_teams``
    when its name passes the team-name rule (consent/employee_rules.py, as a file's cell: no
    formula); spellings that differ only in case are one new team. Without it such a row is
    refused. The names accepted are ``new_teams`` of the result; creating them is the caller's.
    """
    default_region = default_region.strip().upper()
    if default_region and default_region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"default_region {default_region!r} is not a region phonenumbers knows")

    if not data:
        return _file_error("The file is empty.")
    if len(data) > MAX_BYTES:
        return _file_error("The file is larger than 5 MB.")
    text = _decode(data)
    if text is None:
        return _file_error(NOT_UTF8)
    if not text.strip():
        return _file_error("The file is empty.")

    table = _read_table(text)
    if isinstance(table, ParseResult):
        return table

    teams_by_key = {team.strip().casefold(): team for team in sorted(known_teams)}
    # Filled as rows name unknown teams (only with create_teams): the first spelling wins.
    new_teams_by_key: dict[str, str] | None = {} if create_teams else None
    candidates = [
        _check_row(
            line,
            fields,
            table,
            teams_by_key=teams_by_key,
            new_teams_by_key=new_teams_by_key,
            existing_employee_ids=existing_employee_ids,
            default_region=default_region,
        )
        for line, fields in table.records
    ]
    _flag_duplicates(candidates, "employee_id", "Duplicate of")
    _flag_duplicates(candidates, "phone_number", "Same number as")
    _flag_duplicates(candidates, "whatsapp_phone_number_id", "Same WhatsApp phone number id as")
    if numbers_in_use is not None:
        _flag_numbers_in_use(candidates, "phone_number", numbers_in_use)
    if phone_ids_in_use is not None:
        _flag_numbers_in_use(candidates, "whatsapp_phone_number_id", phone_ids_in_use)

    rows = tuple(c.to_row() for c in candidates if c.values is not None and not c.errors)
    errors = [error for c in candidates for error in c.errors]
    errors.sort(key=lambda e: (e.line, _column_order(e.column)))
    new_teams = dict.fromkeys(
        row.team for row in rows if row.team and row.team.casefold() not in teams_by_key
    )
    return ParseResult(
        rows=rows,
        errors=tuple(errors),
        total_lines=len(table.records),
        new_teams=tuple(new_teams),
    )


# --- the file --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Table:
    delimiter: str
    columns: dict[str, int]  # canonical column name -> index in a record
    width: int  # fields per record, as in the header
    records: list[tuple[int, list[str]]]  # (line, fields) of each non-blank data row


def _decode(data: bytes) -> str | None:
    """UTF-8 (with or without BOM) or UTF-16 with BOM; None for anything else.

    Deliberately no latin-1 fallback: it "succeeds" on any bytes and would store "JoÃ£o" for João.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode Text" export; the codec reads and drops the BOM
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    # NULs in decoded text mean UTF-16 without a BOM (or a binary file) that happened to decode.
    if "\x00" in text:
        return None
    return text


def _read_table(text: str) -> _Table | ParseResult:
    """Find the header, map its columns and collect the data records, or a file-level error."""
    delimiter = _detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for fields in reader:
            if _is_blank(fields):
                line = reader.line_num + 1
                continue
            if header is None:
                header = fields
            elif len(records) < MAX_ROWS:
                records.append((line, fields))
            else:
                # Over the limit: count the rest cheaply and stop; a 100,000-row file is refused in
                # a fraction of a second instead of being validated.
                total = MAX_ROWS + 1 + sum(1 for rest in reader if any(rest))
                return _file_error(
                    f"The file has {total:,} employee rows; the limit is {MAX_ROWS:,} per upload. "
                    "Split it into smaller files.",
                    total_lines=total,
                )
            line = reader.line_num + 1
    except csv.Error:
        return _file_error(
            f"Line {line} could not be read: a quotation mark is not closed or is followed by "
            "other text. Check the quotes on that line."
        )

    if header is None:  # only separators and whitespace
        return _file_error("The file is empty.")
    columns, errors = _map_header(header)
    if errors:
        return ParseResult(rows=(), errors=tuple(errors), total_lines=len(records))
    if not records:
        return _file_error("The file has no employee rows.")
    return _Table(
        delimiter=delimiter,
        columns=columns,
        width=len(header),
        records=records,
    )


def _detect_delimiter(text: str) -> str:
    """`,` `;` or tab: the one that splits the header into the most known column names.

    The header decides because it is the one line whose content we know; Excel in Brazil and Spain
    writes `;` and names may contain commas. csv.Sniffer, limited to the three, breaks ties (e.g.
    a header of unknown names), and the most frequent candidate in the header is the last resort.
    """
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample  # whole lines only
    first_line = next((ln for ln in sample.splitlines() if ln.strip()), "")
    scores = {d: _known_column_count(first_line, d) for d in _DELIMITERS}
    best = max(scores.values())
    tied = [d for d in _DELIMITERS if scores[d] == best]
    if len(tied) == 1:
        return tied[0]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed in tied:
        return sniffed
    return max(tied, key=first_line.count)


def _known_column_count(line: str, delimiter: str) -> int:
    names = next(csv.reader([line], delimiter=delimiter), [])
    return sum(1 for name in names if _canonical_column(name) in COLUMNS)


def _normalise_header(name: str) -> str:
    """' Phone Number ' -> 'phone_number', 'E-mail' -> 'e_mail' (then COLUMN_ALIASES)."""
    return "_".join(name.replace("-", " ").lower().split())


def _canonical_column(name: str) -> str:
    normalised = _normalise_header(name)
    return COLUMN_ALIASES.get(normalised, normalised)


def _map_header(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    """Canonical column -> index, and the file-level errors of the header."""
    columns: dict[str, int] = {}
    spellings: dict[str, list[str]] = {}
    unknown: list[str] = []
    unnamed: list[int] = []
    for index, raw in enumerate(header):
        name = raw.strip()
        canonical = _canonical_column(name)
        if not name:
            unnamed.append(index + 1)
        elif canonical not in COLUMNS:
            unknown.append(name)
        else:
            spellings.setdefault(canonical, []).append(name)
            columns.setdefault(canonical, index)

    messages: list[tuple[str, str]] = []  # (value, message)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        messages.append(("", f"Missing required column{plural}: {', '.join(missing)}."))
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        unknown_names = _some(f"'{name[:40]}'" for name in unknown)
        messages.append(
            (
                ", ".join(unknown),
                f"Unknown column{plural} {unknown_names}. The columns are: {', '.join(COLUMNS)}.",
            )
        )
    if unnamed:
        numbers = _some(str(n) for n in unnamed)
        if len(unnamed) == 1:
            message = f"Column {numbers} of the header has no name. Name it or delete it."
        else:
            message = f"Columns {numbers} of the header have no name. Name them or delete them."
        messages.append(("", message))
    for canonical, names in spellings.items():
        if len(names) > 1:
            given = ", ".join(f"'{name[:40]}'" for name in names)
            messages.append(
                (", ".join(names), f"The column '{canonical}' appears more than once ({given}).")
            )
    return columns, [_error(0, "", value, message) for value, message in messages]


def _some(items: Iterable[str], limit: int = 10) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b, ... j and 5 more': a huge header stays one line."""
    listed = list(items)
    if len(listed) > limit:
        return f"{', '.join(listed[:limit])} and {len(listed) - limit:,} more"
    if len(listed) == 1:
        return listed[0]
    return f"{', '.join(listed[:-1])} and {listed[-1]}"


def _is_blank(fields: list[str]) -> bool:
    # Excel writes an emptied row as ";;;"; a row of whitespace is blank too.
    return not any(field.strip() for field in fields)


# --- one row ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    line: int
    given: dict[str, str]  # stripped values as given, for error messages
    values: dict[str, str] | None  # normalised values; None when the row could not be split
    errors: list[RowError]

    def flag(self, column: str, message: str) -> None:
        self.errors.append(_error(self.line, column, self.given.get(column, ""), message))

    def has_error_in(self, column: str) -> bool:
        return any(error.column == column for error in self.errors)

    def to_row(self) -> EmployeeRow:
        assert self.values is not None
        return EmployeeRow(line=self.line, **self.values)


def _check_row(
    line: int,
    fields: list[str],
    table: _Table,
    *,
    teams_by_key: dict[str, str],
    new_teams_by_key: dict[str, str] | None,
    existing_employee_ids: frozenset[str],
    default_region: str,
) -> _Candidate:
    """Check one data row on its own: every cell, at most one error per cell."""
    if len(fields) != table.width:
        separator = "tab" if table.delimiter == "\t" else f"'{table.delimiter}'"
        error = _error(
            line,
            "",
            table.delimiter.join(fields),
            f"This row has {len(fields)} fields but the header has {table.width}. "
            f"Check for a missing or extra separator ({separator}) or an unquoted one in a value.",
        )
        return _Candidate(line=line, given={}, values=None, errors=[error])

    given = {column: "" for column in COLUMNS}
    given.update((column, fields[index].strip()) for column, index in table.columns.items())
    values = dict(given)
    candidate = _Candidate(line=line, given=given, values=values, errors=[])

    # The cell rules are the employee rules every path shares; the file adds its own: a team
    # named in words, and ids already in the tenant (known before the database is asked).
    clean, problems = check_employee(given, source=FILE, default_region=default_region)
    for column, message in problems.items():
        candidate.flag(column, message)
    values.update(
        full_name=clean.full_name,
        email=clean.email,
        employee_id=clean.employee_id,
        region=clean.region,
        phone_number=clean.phone_number,
        whatsapp_phone_number_id=clean.whatsapp_phone_number_id,
        language=clean.language,
    )
    if "employee_id" not in problems and given["employee_id"] in existing_employee_ids:
        candidate.flag("employee_id", "An employee with this id already exists.")
    if given["team"]:
        values["team"], problem = _match_team(given["team"], teams_by_key, new_teams_by_key)
        if problem is not None:
            candidate.flag("team", problem)
    return candidate


def _match_team(
    team: str, teams_by_key: dict[str, str], new_teams_by_key: dict[str, str] | None
) -> tuple[str, str | None]:
    """The canonical spelling of a known team, or (when the admin chose to create the file's
    teams: ``new_teams_by_key`` is given) of a new one the rule accepts; else the value as given
    and a problem."""
    if team.startswith(FORMULA_PREFIXES):
        return team, FORMULA
    key = team.casefold()
    canonical = teams_by_key.get(key)
    if canonical is not None:
        return canonical, None
    if new_teams_by_key is None:
        return team, f"Unknown team '{team[:60]}'. Create it first or leave the column empty."
    name, problem = clean_team_name(team, FILE)
    if problem is not None:
        return team, problem
    return new_teams_by_key.setdefault(key, name), None


# --- across rows -----------------------------------------------------------------------------


def _flag_duplicates(candidates: list[_Candidate], column: str, prefix: str) -> None:
    """Flag every line that shares a (valid, non-empty) value with another line, naming the others.

    Both lines are flagged: the file cannot tell which of the two is the right one.
    """
    comparable = [
        (c, c.values[column])
        for c in candidates
        if c.values is not None and c.values[column] and not c.has_error_in(column)
    ]
    lines_by_value: dict[str, list[int]] = {}
    for candidate, value in comparable:
        lines_by_value.setdefault(value, []).append(candidate.line)
    for candidate, value in comparable:
        lines = lines_by_value[value]
        if len(lines) > 1:
            # Name a few lines, count the rest: 10,000 copies of one row must not cost O(n²).
            shown = [line for line in lines[: _LINES_SHOWN + 1] if line != candidate.line]
            phrase = _lines_phrase(shown[:_LINES_SHOWN], more=len(lines) - 1 - _LINES_SHOWN)
            candidate.flag(column, f"{prefix} {phrase}.")


def _flag_numbers_in_use(
    candidates: list[_Candidate], column: str, in_use: Callable[[list[str]], set[str]]
) -> None:
    numbers_by_line = {
        c.line: c.values[column] for c in candidates if c.values is not None and c.values[column]
    }
    numbers = list(dict.fromkeys(numbers_by_line.values()))
    if not numbers:
        return
    # Only membership is used: whoever holds the number elsewhere (maybe another firm) stays unsaid.
    taken = set(in_use(numbers)) & set(numbers)
    for candidate in candidates:
        if numbers_by_line.get(candidate.line) in taken:
            candidate.flag(column, NUMBER_IN_USE)


def _lines_phrase(lines: list[int], *, more: int) -> str:
    """'line 7', 'lines 2 and 4', 'lines 2, 3, 4 and 17 more'."""
    if more > 0:
        return f"lines {', '.join(map(str, lines))} and {more:,} more"
    if len(lines) == 1:
        return f"line {lines[0]}"
    return f"lines {', '.join(map(str, lines[:-1]))} and {lines[-1]}"


# --- errors ----------------------------------------------------------------------------------


def _error(line: int, column: str, value: str, message: str) -> RowError:
    return RowError(line=line, column=column, value=value[:MAX_ERROR_VALUE], message=message)


def _file_error(message: str, *, total_lines: int = 0) -> ParseResult:
    return ParseResult(rows=(), errors=(_error(0, "", "", message),), total_lines=total_lines)


def _column_order(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else -1
