"""An admin uploads an employee CSV and sees every row and every problem before confirming.

Pure tests of consent.employee_csv: no database, plain bytes in, rows and errors out.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from django.core.validators import validate_email

from consent.employee_csv import (
    MAX_BYTES,
    MAX_ROWS,
    EmployeeRow,
    ParseResult,
    RowError,
    parse_employee_csv,
)

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "full_name,email,employee_id,phone_number"
TEAMS = frozenset({"Wealth", "Trading", "Mesa de Câmbio"})
NOT_UTF8 = "The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload again."
FORMULA = "Values may not start with = + - @ (spreadsheet formula)."
IN_USE = "This number is already in use."


def parse(
    data: bytes,
    *,
    known_teams: frozenset[str] = TEAMS,
    existing_employee_ids: frozenset[str] = frozenset(),
    **kwargs,
) -> ParseResult:
    return parse_employee_csv(
        data, known_teams=known_teams, existing_employee_ids=existing_employee_ids, **kwargs
    )


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def problems(result: ParseResult) -> list[tuple[int, str, str]]:
    return [(e.line, e.column, e.message) for e in result.errors]


def file_problem(result: ParseResult) -> str:
    """The single file-level message of a refused file (which then has no rows)."""
    assert result.rows == ()
    assert [(e.line, e.column) for e in result.errors] == [(0, "")]
    return result.errors[0].message


class NumbersInUse:
    """Stands in for the cross-tenant lookup; records how it was called."""

    def __init__(self, *in_use: str) -> None:
        self.in_use = set(in_use)
        self.calls: list[list[str]] = []

    def __call__(self, numbers: list[str]) -> set[str]:
        self.calls.append(list(numbers))
        return self.in_use


# --- a good file -------------------------------------------------------------------------------


def test_a_brazilian_excel_file_with_bom_and_semicolons_gives_every_employee_normalised():
    result = parse((FIXTURES / "good_semicolon_bom.csv").read_bytes())

    assert result.ok
    assert result.errors == ()
    assert result.total_lines == 7  # the blank line is not counted
    assert result.rows == (
        EmployeeRow(
            line=2,
            full_name="Silva, João",
            email="joao.silva@banco.com.br",
            employee_id="BR-001",
            team="Mesa de Câmbio",
            region="BR",
            phone_number="+5511987654321",
            whatsapp_phone_number_id="106540352242922",
            language="pt-br",
        ),
        EmployeeRow(
            line=3,
            full_name="Maria Souza",
            email="maria@banco.com.br",
            employee_id="BR-002",
            team="",
            region="BR",
            phone_number="+5521998765401",
            whatsapp_phone_number_id="",
            language="pt-br",
        ),
        EmployeeRow(
            line=4,
            full_name="Priya Sharma",
            email="priya@bank.in",
            employee_id="IN-001",
            team="",
            region="IN",
            phone_number="+919876543210",
            whatsapp_phone_number_id="",
            language="en",
        ),
        EmployeeRow(
            line=5,
            full_name="Arjun Mehta",
            email="arjun@bank.in",
            employee_id="IN-002",
            team="Wealth",
            region="IN",
            phone_number="+919123456789",
            whatsapp_phone_number_id="",
            language="en",
        ),
        EmployeeRow(
            line=7,
            full_name="Lucía Fernández",
            email="lucia@banco.es",
            employee_id="ES-001",
            team="",
            region="ES",
            phone_number="+34612345678",
            whatsapp_phone_number_id="",
            language="es",
        ),
        EmployeeRow(
            line=8,
            full_name="Carlos Pérez",
            email="carlos@banco.es",
            employee_id="ES-002",
            team="Wealth",
            region="",
            phone_number="+34699123456",
            whatsapp_phone_number_id="",
            language="es",  # no region: the number's country decides
        ),
        EmployeeRow(
            line=9,
            full_name="Ana Gómez",
            email="ana@banco.mx",
            employee_id="MX-001",
            team="",
            region="MX",
            phone_number="+525512345678",
            whatsapp_phone_number_id="",
            language="pt-br",  # written "pt_BR": the file wins over the region
        ),
    )


def test_header_aliases_spaces_and_case_are_understood():
    data = csv_file(
        "Ana Lima,ana@bank.com.br,E1,+55 11 98765-4321,br,106540352242922",
        header=" Name ,E-mail,Employee ID,Mobile,Country,Phone Number ID",
    )

    result = parse(data)

    assert result.ok
    (row,) = result.rows
    assert (row.full_name, row.region, row.whatsapp_phone_number_id) == (
        "Ana Lima",
        "BR",
        "106540352242922",
    )


@pytest.mark.parametrize("alias", ["phone", "mobile", "whatsapp_number", "WhatsApp Number"])
def test_phone_column_aliases(alias):
    data = csv_file("Ana,ana@x.com,E1,+5511987654321", header=f"name,email,employee_id,{alias}")

    assert parse(data).rows[0].phone_number == "+5511987654321"


def test_a_tab_separated_file_is_read():
    data = "full_name\temail\temployee_id\tphone_number\nSilva, Ana\ta@x.com\tE1\t+5511987654321\n"

    result = parse(data.encode())

    assert result.ok
    assert result.rows[0].full_name == "Silva, Ana"


def test_a_utf16_file_with_bom_is_accepted():
    text = "full_name\temail\temployee_id\tphone_number\r\nJoão\tj@x.com\tE1\t+5511987654321\r\n"

    for data in (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), text.encode("utf-16")):
        result = parse(data)
        assert result.ok
        assert result.rows[0].full_name == "João"


def test_values_are_stripped_email_lower_cased_and_team_spelled_as_the_tenant_does():
    data = csv_file(
        "  Ana Lima  ,  Ana.Lima@Bank.COM.br , E1 , +55 11 98765-4321 ,  wealth  ",
        header=f"{HEADER},team",
    )

    (row,) = parse(data).rows

    assert (row.full_name, row.email, row.employee_id, row.team) == (
        "Ana Lima",
        "ana.lima@bank.com.br",
        "E1",
        "Wealth",
    )


@pytest.mark.parametrize(
    ("given", "language"),
    [("en", "en"), ("EN", "en"), ("pt", "pt-br"), ("pt-br", "pt-br"), ("PT-BR", "pt-br"),
     ("pt_BR", "pt-br"), ("es", "es"), ("Es", "es")],
)  # fmt: skip
def test_language_spellings_become_canonical(given, language):
    data = csv_file(f"Ana,ana@x.com,E1,+5511987654321,{given}", header=f"{HEADER},language")

    assert parse(data).rows[0].language == language


@pytest.mark.parametrize(
    ("region", "number", "language"),
    [
        ("BR", "+5511987654321", "pt-br"),
        ("PT", "+5511987654321", "pt-br"),
        ("AO", "+5511987654321", "pt-br"),
        ("MZ", "+5511987654321", "pt-br"),
        ("ES", "+5511987654321", "es"),
        ("AR", "+5511987654321", "es"),
        ("UY", "+5511987654321", "es"),
        ("IN", "+5511987654321", "en"),
        ("GB", "+5511987654321", "en"),
        ("", "+5511987654321", "pt-br"),
        ("", "+34612345678", "es"),
        ("", "+919876543210", "en"),
        ("", "+12025550143", "en"),
    ],
)
def test_language_defaults_to_the_region_else_the_numbers_country(region, number, language):
    data = csv_file(f"Ana,ana@x.com,E1,{number},{region}", header=f"{HEADER},region")

    assert parse(data).rows[0].language == language


def test_national_numbers_are_read_with_the_rows_region_else_the_default_region():
    data = csv_file(
        "Ana,ana@x.com,E1,(11) 98765-4321,",
        "Raj,raj@x.com,E2,098765 43210,IN",
        header=f"{HEADER},region",
    )

    without_default = parse(data)
    with_default = parse(data, default_region="BR")

    assert problems(without_default) == [
        (
            2,
            "phone_number",
            "Cannot read this phone number; write it with the country code, "
            "e.g. +55 11 98765-4321.",
        )
    ]
    assert [r.phone_number for r in with_default.rows] == ["+5511987654321", "+919876543210"]


def test_an_unknown_default_region_is_a_programming_error():
    with pytest.raises(ValueError, match="default_region"):
        parse(csv_file("Ana,ana@x.com,E1,+5511987654321"), default_region="UK")


def test_exactly_the_row_limit_is_accepted():
    rows = [f"Person {i},p{i}@x.com,E{i},+55 11 9{i:04d}-{i:04d}" for i in range(MAX_ROWS)]

    result = parse(csv_file(*rows))

    assert result.ok
    assert len(result.rows) == MAX_ROWS == result.total_lines


# --- every kind of bad row ---------------------------------------------------------------------


def test_every_bad_row_is_reported_by_line_and_column_and_the_good_rows_still_come_back():
    numbers_in_use = NumbersInUse("+5511912345678", "+4930123456")

    result = parse(
        (FIXTURES / "every_bad_row.csv").read_bytes(),
        known_teams=frozenset({"Wealth", "Trading"}),
        existing_employee_ids=frozenset({"E900"}),
        numbers_in_use=numbers_in_use,
    )

    assert not result.ok
    assert result.total_lines == 20  # 22 lines, minus the header and the line of empty fields
    assert problems(result) == [
        (3, "email", "Not a valid email address."),
        (
            4,
            "phone_number",
            "Cannot read this phone number; write it with the country code, "
            "e.g. +55 11 98765-4321.",
        ),
        (5, "phone_number", "Not a valid phone number for its country."),
        (6, "employee_id", "Duplicate of line 7."),
        (7, "employee_id", "Duplicate of line 6."),
        (8, "phone_number", "Same number as line 9."),
        (9, "phone_number", "Same number as line 8."),
        (10, "employee_id", "An employee with this id already exists."),
        (11, "team", "Unknown team 'Equities'. Create it first or leave the column empty."),
        (
            12,
            "region",
            "Unknown country code 'XX'. Use the two-letter code (ISO 3166), e.g. BR, IN or ES.",
        ),
        (13, "language", "Unknown language 'fr'. Use en, pt-br, es, hi."),
        (14, "full_name", FORMULA),
        (14, "employee_id", FORMULA),
        (14, "team", FORMULA),
        (15, "email", "The email address is missing."),
        (
            16,
            "",
            "This row has 4 fields but the header has 8. Check for a missing or extra "
            "separator (',') or an unquoted one in a value.",
        ),
        (17, "phone_number", IN_USE),
        (19, "whatsapp_phone_number_id", "The WhatsApp phone number id may contain only digits."),
        (20, "whatsapp_phone_number_id", "Same WhatsApp phone number id as line 21."),
        (21, "whatsapp_phone_number_id", "Same WhatsApp phone number id as line 20."),
    ]
    assert [(r.line, r.employee_id, r.phone_number, r.team, r.language) for r in result.rows] == [
        (2, "E001", "+5511987654321", "Wealth", "pt-br"),
        (22, "E021", "+919876543210", "Trading", "en"),
    ]


def test_errors_show_the_value_as_written_in_the_file():
    result = parse(
        (FIXTURES / "every_bad_row.csv").read_bytes(),
        known_teams=frozenset({"Wealth"}),
        existing_employee_ids=frozenset(),
    )

    values = {(e.line, e.column): e.value for e in result.errors}
    assert values[(3, "email")] == "bruno.bank.com.br"
    assert values[(4, "phone_number")] == "call me"
    assert values[(9, "phone_number")] == "(21) 99876-5401"  # not the E.164 form
    assert values[(14, "full_name")] == "=1+2"
    assert values[(16, "")].startswith("Nina Castro,nina@bank.com.br")


def test_a_row_with_several_problems_reports_them_all():
    data = csv_file(",not-an-email,,+55 12", header=HEADER)

    assert problems(parse(data)) == [
        (2, "full_name", "The full name is missing."),
        (2, "email", "Not a valid email address."),
        (2, "employee_id", "The employee id is missing."),
        (2, "phone_number", "Not a valid phone number for its country."),
    ]


@pytest.mark.parametrize(
    "email",
    [
        "ana",
        "ana@",
        "@bank.com",
        "ana@bank",
        "ana@@bank.com",
        "ana@x@bank.com",
        "ana lima@bank.com",
        "ana@bank..com",
        "ana@.bank.com",
        "ana@bank.com.",
        ".ana@bank.com",
        "ana..lima@bank.com",
        "Ana Lima <ana@bank.com>",
        "a" * 65 + "@bank.com",
        "joão@bank.com.br",
        "ana@bank_x.com",
        "ana@bank.c0m",
        "ana@-bank.com",
    ],
)
def test_invalid_email_addresses_are_refused(email):
    data = csv_file(f'Ana,"{email}",E1,+5511987654321')

    assert problems(parse(data)) == [(2, "email", "Not a valid email address.")]


ACCEPTED_EMAILS = [
    "ana.lima+wa@bank.com.br",
    "a" * 64 + "@bank.in",
    "x@y.es",
    "o'brien@bank.ie",
    "ana_b-c@sub.bank-x.co.uk",
    "ana@bücher.de",
    "ana@xn--bcher-kva.example",
    "ana@bank.xn--p1ai",
]


@pytest.mark.parametrize("email", ACCEPTED_EMAILS)
def test_ordinary_email_addresses_are_accepted(email):
    assert parse(csv_file(f"Ana,{email},E1,+5511987654321")).ok


@pytest.mark.parametrize("email", ACCEPTED_EMAILS)
def test_an_email_accepted_at_preview_is_accepted_by_the_model_at_import(email):
    # Employee.email is an EmailField: a wider check here would fail the confirmed import.
    validate_email(email)


def test_overlong_values_are_refused_and_the_shown_value_is_truncated():
    long_name = "A" * 201
    data = csv_file(
        f"{long_name},ana@x.com,{'9' * 65},+5511987654321,{'1' * 33}",
        header=f"{HEADER},whatsapp_phone_number_id",
    )

    result = parse(data)

    assert problems(result) == [
        (2, "full_name", "The name is longer than 200 characters."),
        (2, "employee_id", "The employee id is longer than 64 characters."),
        (
            2,
            "whatsapp_phone_number_id",
            "The WhatsApp phone number id is longer than 32 digits.",
        ),
    ]
    assert result.errors[0].value == "A" * 100


def test_names_of_exactly_the_limit_are_accepted():
    data = csv_file(f"{'A' * 200},ana@x.com,{'9' * 64},+5511987654321")

    assert parse(data).ok


@pytest.mark.parametrize("value", ["=SUM(A1:A9)", "+cmd", "-2+3", "@SUM(1)"])
@pytest.mark.parametrize("column", ["full_name", "employee_id", "team"])
def test_spreadsheet_formulas_are_refused_where_they_would_reach_exports(value, column):
    cells = {
        "full_name": "Ana",
        "email": "ana@x.com",
        "employee_id": "E1",
        "phone_number": "+5511987654321",
        "team": "",
    }
    cells[column] = value
    data = csv_file(",".join(f'"{v}"' for v in cells.values()), header=",".join(cells))

    result = parse(data)

    assert problems(result) == [(2, column, FORMULA)]
    assert result.errors[0].value == value  # reported, never altered


def test_a_phone_number_starting_with_plus_is_not_a_formula():
    assert parse(csv_file("Ana,ana@x.com,E1,+5511987654321")).ok


def test_a_name_with_a_line_break_is_refused_and_later_lines_keep_their_numbers():
    data = csv_file('"Ana\nLima",ana@x.com,E1,+5511987654321', "Bia,bia@x.com,E2,+5511987654322")

    result = parse(data)

    assert problems(result) == [
        (2, "full_name", "The name may not contain line breaks or control characters.")
    ]
    assert [row.line for row in result.rows] == [4]


def test_a_triplicated_employee_id_names_the_other_two_lines():
    data = csv_file(
        "Ana,ana@x.com,E1,+5511987654321",
        "Bia,bia@x.com,E1,+5511987654322",
        "Caio,caio@x.com,E1,+5511987654323",
    )

    assert problems(parse(data)) == [
        (2, "employee_id", "Duplicate of lines 3 and 4."),
        (3, "employee_id", "Duplicate of lines 2 and 4."),
        (4, "employee_id", "Duplicate of lines 2 and 3."),
    ]


def test_many_copies_of_one_row_name_a_few_lines_and_count_the_rest():
    rows = [f"P{i},p{i}@x.com,E1,+55 11 98765-43{i:02d}" for i in range(6)]

    errors = parse(csv_file(*rows)).errors

    assert [e.message for e in errors[:2]] == [
        "Duplicate of lines 3, 4, 5 and 2 more.",
        "Duplicate of lines 2, 4, 5 and 2 more.",
    ]
    assert len(errors) == 6


def test_employee_ids_are_compared_exactly():
    data = csv_file("Ana,ana@x.com,e1,+5511987654321", "Bia,bia@x.com,E1,+5511987654322")

    assert parse(data, existing_employee_ids=frozenset({"E01"})).ok


def test_the_same_number_written_two_ways_is_a_duplicate():
    data = csv_file(
        "Ana,ana@x.com,E1,+55 (11) 98765-4321,BR",
        "Bia,bia@x.com,E2,11987654321,BR",
        header=f"{HEADER},region",
    )

    assert problems(parse(data)) == [
        (2, "phone_number", "Same number as line 3."),
        (3, "phone_number", "Same number as line 2."),
    ]


def test_an_unknown_region_still_lets_the_number_be_checked():
    data = csv_file("Ana,ana@x.com,E1,(11) 98765-4321,Brazil", header=f"{HEADER},region")

    assert problems(parse(data, default_region="BR")) == [
        (
            2,
            "region",
            "Unknown country code 'BRAZIL'. Use the two-letter code (ISO 3166), e.g. BR, IN or ES.",
        )
    ]


# --- numbers already in use --------------------------------------------------------------------


def test_numbers_in_use_is_asked_once_with_each_valid_number_of_the_file():
    numbers_in_use = NumbersInUse()
    data = csv_file(
        "Ana,ana@x.com,E1,+55 11 98765-4321",
        "Bia,bia@x.com,E2,+5511987654321",  # the same number again
        "Caio,not-an-email,E3,+91 98765 43210",  # a bad row, but its number is valid
        "Davi,davi@x.com,E4,12345",  # not valid: not asked about
    )

    parse(data, numbers_in_use=numbers_in_use)

    assert numbers_in_use.calls == [["+5511987654321", "+919876543210"]]


def test_numbers_in_use_is_not_asked_when_no_number_is_valid():
    numbers_in_use = NumbersInUse()

    parse(csv_file("Ana,ana@x.com,E1,12345"), numbers_in_use=numbers_in_use)

    assert numbers_in_use.calls == []


def test_a_number_in_use_elsewhere_is_refused_without_saying_by_whom():
    numbers_in_use = NumbersInUse("+5511987654321", "+5511987654322")
    data = csv_file(
        "Ana,ana@x.com,E1,+55 11 98765-4321",
        "Bia,bia@x.com,E2,+55 11 98765-4322",
        "Caio,caio@x.com,E3,+55 11 98765-4323",
    )

    result = parse(data, numbers_in_use=numbers_in_use)

    assert len(numbers_in_use.calls) == 1
    assert result.errors == (
        RowError(line=2, column="phone_number", value="+55 11 98765-4321", message=IN_USE),
        RowError(line=3, column="phone_number", value="+55 11 98765-4322", message=IN_USE),
    )
    assert [row.line for row in result.rows] == [4]


# --- file-level problems -----------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\n\n", b"  \r\n", b";;;\n;;;\n", codecs.BOM_UTF8])
def test_an_empty_file_is_refused(data):
    assert file_problem(parse(data)) == "The file is empty."


@pytest.mark.parametrize("data", [csv_file(), csv_file("", ",,,", "")])
def test_a_file_with_only_a_header_is_refused(data):
    assert file_problem(parse(data)) == "The file has no employee rows."


def test_missing_required_columns_are_named():
    data = csv_file("Ana,ana@x.com", header="full_name,email")

    assert file_problem(parse(data)) == "Missing required columns: employee_id, phone_number."


def test_a_single_missing_column_is_named():
    data = csv_file("Ana,ana@x.com,E1", header="full_name,email,employee_id")

    assert file_problem(parse(data)) == "Missing required column: phone_number."


def test_an_unknown_column_is_named_so_typos_are_caught():
    data = csv_file("Ana,ana@x.com,E1,+5511987654321,Sales", header=f"{HEADER},departmnet")

    result = parse(data)

    assert file_problem(result) == (
        "Unknown column 'departmnet'. The columns are: full_name, email, employee_id, "
        "phone_number, team, region, whatsapp_phone_number_id, language."
    )
    assert result.errors[0].value == "departmnet"


def test_a_misspelt_required_column_is_both_missing_and_unknown():
    header = "full_name,email,employee_id,phone_no"
    data = csv_file("Ana,ana@x.com,E1,+5511987654321", header=header)

    assert [e.message for e in parse(data).errors] == [
        "Missing required column: phone_number.",
        "Unknown column 'phone_no'. The columns are: full_name, email, employee_id, "
        "phone_number, team, region, whatsapp_phone_number_id, language.",
    ]


def test_duplicate_column_names_are_refused_even_through_an_alias():
    data = csv_file("Ana,ana@x.com,E1,+5511987654321,+5511987654322", header=f"{HEADER},Phone")

    result = parse(data)

    assert file_problem(result) == (
        "The column 'phone_number' appears more than once ('phone_number', 'Phone')."
    )


def test_a_header_cell_without_a_name_is_refused():
    data = csv_file("Ana,ana@x.com,E1,+5511987654321,x", header=f"{HEADER},")

    assert file_problem(parse(data)) == "Column 5 of the header has no name. Name it or delete it."


def test_trailing_separators_in_the_header_are_named_once():
    data = csv_file("Ana,ana@x.com,E1,+5511987654321,,,", header=f"{HEADER},,,")

    assert file_problem(parse(data)) == (
        "Columns 5, 6 and 7 of the header have no name. Name them or delete them."
    )


def test_a_latin1_file_is_refused_rather_than_guessed():
    data = f"{HEADER}\nJoão Silva,joao@x.com,E1,+5511987654321\n".encode("latin-1")

    assert file_problem(parse(data)) == NOT_UTF8


def test_utf16_without_a_bom_is_refused():
    data = f"{HEADER}\nAna,ana@x.com,E1,+5511987654321\n".encode("utf-16-le")

    assert file_problem(parse(data)) == NOT_UTF8


def test_a_file_over_5_mb_is_refused():
    data = csv_file("Ana,ana@x.com,E1,+5511987654321") + b" " * MAX_BYTES

    assert file_problem(parse(data)) == "The file is larger than 5 MB."


def test_a_file_with_100000_rows_is_refused_with_the_limit_and_the_count():
    rows = [f"P{i},p{i}@x.com,E{i},+5511987654321" for i in range(100_000)]
    data = csv_file(*rows)
    assert len(data) <= MAX_BYTES

    result = parse(data, numbers_in_use=NumbersInUse())

    assert file_problem(result) == (
        "The file has 100,000 employee rows; the limit is 10,000 per upload. "
        "Split it into smaller files."
    )
    assert result.total_lines == 100_000


def test_an_unclosed_quote_is_refused_with_its_line():
    data = csv_file("Ana,ana@x.com,E1,+5511987654321", '"Bia,bia@x.com,E2,+5511987654322')

    assert file_problem(parse(data)) == (
        "Line 3 could not be read: a quotation mark is not closed or is followed by other text. "
        "Check the quotes on that line."
    )


# --- creating the teams the file names (the admin's explicit choice) ---------------------------

TEAM_HEADER = "full_name,email,employee_id,phone_number,team"


def team_rows(*teams: str) -> bytes:
    return csv_file(
        *(
            f"Person {n},p{n}@firm.example,P-{n},+55 11 98765-{4300 + n},{team}"
            for n, team in enumerate(teams, start=1)
        ),
        header=TEAM_HEADER,
    )


def test_without_the_choice_an_unknown_team_is_refused_row_by_row_as_before():
    result = parse(team_rows("Equities", "Wealth", "equities"))

    assert problems(result) == [
        (2, "team", "Unknown team 'Equities'. Create it first or leave the column empty."),
        (4, "team", "Unknown team 'equities'. Create it first or leave the column empty."),
    ]
    assert [row.team for row in result.rows] == ["Wealth"]
    assert result.new_teams == ()


def test_with_the_choice_unknown_teams_are_accepted_once_each_as_first_written():
    result = parse(team_rows("Equities", "wealth", "EQUITIES", " Fixed Income "), create_teams=True)

    assert result.ok
    assert [row.team for row in result.rows] == ["Equities", "Wealth", "Equities", "Fixed Income"]
    assert result.new_teams == ("Equities", "Fixed Income")


def test_the_new_teams_pass_the_one_team_name_rule():
    result = parse(
        team_rows("=HYPERLINK(1)", "-Desk", "x" * 101, "Desk\x07A", "Ok"), create_teams=True
    )

    assert problems(result) == [
        (2, "team", FORMULA),
        (3, "team", FORMULA),
        (4, "team", "A team name is at most 100 characters."),
        (5, "team", "A team name may not contain line breaks or control characters."),
    ]
    assert result.new_teams == ("Ok",)


def test_a_new_team_named_only_by_rows_with_other_errors_is_not_listed():
    result = parse(
        csv_file(
            "Ana,not-an-email,P-1,+55 11 98765-4301,Equities",
            "Bruno,b@firm.example,P-2,+55 11 98765-4302,Wealth",
            header=TEAM_HEADER,
        ),
        create_teams=True,
    )

    assert [(line, column) for line, column, _ in problems(result)] == [(2, "email")]
    assert result.new_teams == ()


def test_no_new_teams_when_every_team_is_known():
    assert parse(team_rows("Trading", "wealth"), create_teams=True).new_teams == ()
