"""`manage.py scan_jsonl`: one JSON line per message with categories and findings in the issue's
shape, using the built-in packs; no database needed; unreadable lines answered, not fatal."""

from __future__ import annotations

import json

import pytest

from tests.manage_py import run_manage

NO_DATABASE = "postgres://nobody:nothing@127.0.0.1:9/none"  # nothing listens on port 9


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """One folder for the module with the classifiers trained into it first: training from the
    shipped corpus takes minutes on a loaded machine, which a scan's own time limit should not
    have to cover."""
    folder = tmp_path_factory.mktemp("models")
    trained = run_manage(
        "train_models",
        env={"DJANGO_ENV": "local", "DATABASE_URL": NO_DATABASE, "MODELS_DIR": str(folder)},
        timeout=1200,
    )
    assert trained.returncode == 0, trained.stderr
    return folder


def scan(tmp_path, lines: list[str], models_dir) -> tuple[list[dict], str, int]:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_manage(
        "scan_jsonl", str(source),
        env={"DJANGO_ENV": "local", "DATABASE_URL": NO_DATABASE, "MODELS_DIR": str(models_dir)},
    )  # fmt: skip
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return rows, result.stderr, result.returncode


def test_each_message_gets_its_categories_and_findings_without_a_database(tmp_path, models_dir):
    texts = {
        "cpf": "Segue meu CPF 529.982.247-25 pra abrir a conta",
        "link": "Atualize seu cadastro: http://itau-seguranca.login-verificar.xyz/entrar",
        "quiet": "Bom dia! A reunião de amanhã está confirmada para as 15h.",
    }
    lines = [json.dumps({"id": k, "text": v}) for k, v in texts.items()]
    rows, stderr, code = scan(tmp_path, lines, models_dir)
    assert code == 0, stderr
    by_id = {row["id"]: row for row in rows}
    assert list(by_id) == ["cpf", "link", "quiet"]
    assert by_id["cpf"]["categories"] == ["pii"]
    [cpf] = by_id["cpf"]["findings"]
    assert (cpf["category"], cpf["type"], cpf["value"]) == ("pii", "br_cpf", "529.982.247-25")
    assert set(cpf) >= {"category", "detector", "score", "spans", "explanation"}
    start, end = cpf["spans"][0]
    assert texts["cpf"][start:end] == "529.982.247-25"
    assert "malicious_link" in by_id["link"]["categories"]
    link = next(f for f in by_id["link"]["findings"] if f["category"] == "malicious_link")
    assert link["url"].startswith("http://itau-seguranca")
    assert by_id["quiet"] == {"id": "quiet", "categories": [], "findings": []}


def test_lines_are_read_as_the_firms_side_so_every_pack_policy_applies(tmp_path, models_dir):
    # Lines carry no direction; the packs' employee-only policies (guarantees, off-label) look
    # at outbound messages, and a bulk test of the packs must still show what they catch.
    lines = [json.dumps({"id": 1, "text": "I guarantee you 12% returns, zero risk"})]
    rows, stderr, code = scan(tmp_path, lines, models_dir)
    assert code == 0, stderr
    assert "guarantee" in rows[0]["categories"]


def test_unreadable_lines_are_answered_and_the_rest_scanned(tmp_path, models_dir):
    lines = [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"id": 7}),
        json.dumps({"id": 8, "text": ""}),
        '{"id": 9, "text": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ]
    rows, stderr, code = scan(tmp_path, lines, models_dir)
    assert code == 0
    assert [row.get("error", "") for row in rows] == [
        "line 1 is not JSON",
        "line 2 is not a JSON object",
        "line 3 has no text (a string)",
        "",
        "line 5 is nested too deeply to read",
    ]
    assert rows[3] == {"id": 8, "categories": [], "findings": []}
    assert "4 line(s) could not be read" in stderr


def test_a_missing_file_is_a_clear_error(tmp_path):
    result = run_manage(
        "scan_jsonl", str(tmp_path / "nowhere.jsonl"),
        env={"DJANGO_ENV": "local", "DATABASE_URL": NO_DATABASE, "MODELS_DIR": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode != 0 and "No such file" in result.stderr
