"""The rules of an employee's fields, in one place: the form, the API, the CSV import and the bulk
create all call :func:`check_employee`.

Pure: plain strings in, cleaned values or field errors out; no database, no settings (Django's
EmailValidator is the one Django import: a maintained address check that needs neither; the
import-linter contract in pyproject.toml allows exactly that). What needs
the database (an id or a number already taken, a team of the tenant) stays in the services, which
check uniqueness in one function for the one-by-one and the bulk paths.

The rules are one, for two sources (:data:`FORM` for the form, the API and the services;
:data:`FILE` for the CSV import) that differ in two ways only: the words (a form shows a message
beside the field, the import's error table names a file's column), and a file's cells are also
refused when a spreadsheet would evaluate them (a leading = + - @) or break on them (control
characters), since an import file is a spreadsheet's work; a name typed in a form is kept as
typed, and every export neutralises formulas (compliance_hub/csv_cells.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from compliance_hub.digits import is_digits

from .phones import InvalidPhoneNumber, is_region, normalize_phone, region_of

# Spellings people write in the language column. The codes are settings.LANGUAGES' (a test keeps
# them equal, since this module reads no settings).
LANGUAGE_ALIASES = {
    "en": "en",
    "pt": "pt-br",
    "pt-br": "pt-br",
    "pt_br": "pt-br",
    "es": "es",
    "hi": "hi",
}
LANGUAGES = tuple(dict.fromkeys(LANGUAGE_ALIASES.values()))
PORTUGUESE_REGIONS = frozenset({"BR", "PT", "AO", "MZ"})
SPANISH_REGIONS = frozenset(
    {
        "ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU",
        "BO", "DO", "HN", "PY", "SV", "NI", "CR", "PA", "UY",
    }
)  # fmt: skip

REQUIRED = ("full_name", "email", "employee_id", "phone_number")
FIELDS = (*REQUIRED, "region", "whatsapp_phone_number_id", "language")
MAX_FULL_NAME = 200
MAX_EMAIL = 254
MAX_EMAIL_LOCAL = 64  # RFC 5321; Django's validator does not limit the part before "@"
MAX_EMPLOYEE_ID = 64
MAX_PHONE_NUMBER_ID = 32
MAX_TEAM_NAME = 100  # Team.name's column

FORMULA = "Values may not start with = + - @ (spreadsheet formula)."
# Leading characters that make Excel and LibreOffice evaluate a cell (CSV injection); these values
# reappear in exports that compliance officers open in spreadsheets.
FORMULA_PREFIXES = ("=", "+", "-", "@")
# Django's own check, the one the model field applies, so no path is wider or narrower than it.
_email_validator = EmailValidator()


@dataclass(frozen=True)
class Source:
    """Where values come from: the words of the messages, and whether cells are spreadsheet's."""

    spreadsheet_cells: bool
    required: Mapping[str, str]
    region: str  # formatted with {value}
    phone_number_id_digits: str
    phone_number_id_length: str
    language: str  # formatted with {value}


FORM = Source(
    spreadsheet_cells=False,
    required={
        "full_name": "A name is required.",
        "email": "An email address is required.",
        "employee_id": "An employee id is required.",
        "phone_number": "A phone number is required.",
    },
    region="Not a country code (ISO 3166-1 alpha-2, e.g. BR, IN, ES).",
    phone_number_id_digits="Digits only, as Meta shows it (at most 32).",
    phone_number_id_length="Digits only, as Meta shows it (at most 32).",
    language="Choose one of: " + ", ".join(LANGUAGES) + ".",
)
FILE = Source(
    spreadsheet_cells=True,
    required={
        "full_name": "The full name is missing.",
        "email": "The email address is missing.",
        "employee_id": "The employee id is missing.",
        "phone_number": "The phone number is missing.",
    },
    region="Unknown country code '{value}'. Use the two-letter code (ISO 3166), e.g. BR, IN or ES.",
    phone_number_id_digits="The WhatsApp phone number id may contain only digits.",
    phone_number_id_length=(
        f"The WhatsApp phone number id is longer than {MAX_PHONE_NUMBER_ID} digits."
    ),
    language="Unknown language '{value}'. Use " + ", ".join(LANGUAGES) + ".",
)


@dataclass(frozen=True)
class CleanEmployee:
    full_name: str
    email: str  # lower-cased
    employee_id: str
    region: str  # ISO 3166-1 alpha-2, upper-case, "" if none
    phone_number: str  # E.164
    whatsapp_phone_number_id: str  # ASCII digits, "" if none
    language: str  # one of LANGUAGES


def check_employee(
    values: Mapping[str, str], *, source: Source = FORM, default_region: str = ""
) -> tuple[CleanEmployee, dict[str, str]]:
    """The cleaned employee and one message per refused field (none when it is valid).

    The cleaned values of a refused row are for messages and cross-row checks only: a refused
    region, phone number, WhatsApp phone number id or language is "" there.

    ``values`` holds the text of full_name, email, employee_id, phone_number, region,
    whatsapp_phone_number_id and language (missing keys are empty). Values are stripped.
    ``default_region`` reads a national phone number when the row has no valid region. The
    language, when none is given, follows the region, else the phone number's country.
    """
    given = {key: (values.get(key) or "").strip() for key in FIELDS}
    errors: dict[str, str] = {}

    def check(field: str, problem: str | None) -> None:
        if problem is not None and field not in errors:
            errors[field] = problem

    for field in REQUIRED:
        if not given[field]:
            check(field, source.required[field])
    email = given["email"].lower()
    if given["full_name"]:
        check("full_name", full_name_problem(given["full_name"], source))
    if email:
        check("email", email_problem(email, source))
    if given["employee_id"]:
        check("employee_id", employee_id_problem(given["employee_id"], source))

    region = given["region"].upper()
    if region and not is_region(region):
        check("region", source.region.format(value=region[:20]))
        region = ""

    phone = ""
    if given["phone_number"]:
        try:
            phone = normalize_phone(given["phone_number"], region or default_region)
        except InvalidPhoneNumber as error:
            check("phone_number", str(error))

    phone_id = given["whatsapp_phone_number_id"]
    if phone_id and not is_digits(phone_id):
        check("whatsapp_phone_number_id", source.phone_number_id_digits)
        phone_id = ""
    elif len(phone_id) > MAX_PHONE_NUMBER_ID:
        check("whatsapp_phone_number_id", source.phone_number_id_length)
        phone_id = ""

    language = read_language(given["language"]) if given["language"] else None
    if language is None and given["language"]:
        check("language", source.language.format(value=given["language"][:20]))
        language = ""
    clean = CleanEmployee(
        full_name=given["full_name"],
        email=email,
        employee_id=given["employee_id"],
        region=region,
        phone_number=phone,
        whatsapp_phone_number_id=phone_id,
        language=default_language(region or region_of(phone)) if language is None else language,
    )
    return clean, errors


def read_language(value: str) -> str | None:
    """The language code for a code or a spelling people write ("pt", "PT_BR"), or None."""
    return LANGUAGE_ALIASES.get(value.strip().lower())


def default_language(region: str) -> str:
    """The notice language for an ISO alpha-2 region ("" or unknown gives "en")."""
    region = region.upper()
    if region in PORTUGUESE_REGIONS:
        return "pt-br"
    if region in SPANISH_REGIONS:
        return "es"
    return "en"


def full_name_problem(name: str, source: Source = FORM) -> str | None:
    if len(name) > MAX_FULL_NAME:
        return f"The name is longer than {MAX_FULL_NAME} characters."
    if not source.spreadsheet_cells:
        return None
    if name.startswith(FORMULA_PREFIXES):
        return FORMULA
    if has_control_characters(name):
        return "The name may not contain line breaks or control characters."
    return None


def email_problem(email: str, source: Source = FORM) -> str | None:
    local = email.rpartition("@")[0]
    if len(email) > MAX_EMAIL or len(local) > MAX_EMAIL_LOCAL or not _is_email(email):
        return "Not a valid email address."
    if source.spreadsheet_cells and email.startswith(FORMULA_PREFIXES):
        return FORMULA
    return None


def employee_id_problem(employee_id: str, source: Source = FORM) -> str | None:
    if len(employee_id) > MAX_EMPLOYEE_ID:
        return f"The employee id is longer than {MAX_EMPLOYEE_ID} characters."
    if not source.spreadsheet_cells:
        return None
    if employee_id.startswith(FORMULA_PREFIXES):
        return FORMULA
    if has_control_characters(employee_id):
        return "The employee id may not contain line breaks or control characters."
    return None


def clean_team_name(name: str, source: Source = FORM) -> tuple[str, str | None]:
    """The one rule of a team's name, for the employees page, the API and the teams a CSV import
    creates: trimmed, present, at most MAX_TEAM_NAME characters, one line; a file's cell also no
    formula. Returns the trimmed name and the problem, if any. Uniqueness (case-insensitive, per
    tenant) needs the database: the services check it and a constraint holds it."""
    name = name.strip()
    if not name:
        return name, "A team needs a name."
    if len(name) > MAX_TEAM_NAME:
        return name, f"A team name is at most {MAX_TEAM_NAME} characters."
    if has_control_characters(name):
        return name, "A team name may not contain line breaks or control characters."
    if source.spreadsheet_cells and name.startswith(FORMULA_PREFIXES):
        return name, FORMULA
    return name, None


def has_control_characters(value: str) -> bool:
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value)


def _is_email(value: str) -> bool:
    try:
        _email_validator(value)
    except ValidationError:
        return False
    return True
