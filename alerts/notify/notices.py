"""The notices an officer sends an employee from a closed alert: built-in wording (English,
Portuguese, Spanish) and the placeholder filling. A pure module.

A template is plain text with a few named placeholders (``{employee}``, ``{firm}``,
``{policy}``, ``{date}``, ``{officer}``). They are filled by a single regular-expression pass
over known names, never by a template engine: an admin's text is data, so nothing in it can
reach attributes, filters or tags, and any other brace is sent as written. The email is plain
text, so nothing needs HTML escaping there; pages show templates through autoescaping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

PLACEHOLDERS: dict[str, str] = {
    "employee": "the employee's full name",
    "firm": "the firm's name",
    "policy": "the name of the policy that flagged the message",
    "date": "the day the message was sent (YYYY-MM-DD)",
    "officer": "the name of the officer who sends the notice",
}
_TOKEN = re.compile(r"\{([a-z_]+)\}")
SUBJECT_MAX = 200
BODY_MAX = 5000


@dataclass(frozen=True)
class NoticeText:
    subject: str
    body: str


DEFAULTS: dict[tuple[str, str], NoticeText] = {
    ("policy_reminder", "en"): NoticeText(
        "A reminder of {firm}'s communication policy",
        "Hello {employee},\n\n"
        "A message you exchanged on WhatsApp on {date} was reviewed by the compliance team "
        'under the policy "{policy}".\n\n'
        "No action is being taken. This is a reminder of {firm}'s rules for client "
        "communication: please read the policy again and ask the compliance team if anything "
        "is unclear.\n\n"
        "{officer}\nCompliance, {firm}",
    ),
    ("warning", "en"): NoticeText(
        "A formal warning about a WhatsApp message",
        "Hello {employee},\n\n"
        "A message you exchanged on WhatsApp on {date} was reviewed by the compliance team and "
        'found to breach the policy "{policy}".\n\n'
        "This is a formal warning, and it is recorded. Please follow {firm}'s rules for client "
        "communication; the compliance team will contact you if anything else is needed.\n\n"
        "{officer}\nCompliance, {firm}",
    ),
    ("policy_reminder", "pt-br"): NoticeText(
        "Um lembrete da política de comunicação de {firm}",
        "Olá, {employee},\n\n"
        "Uma mensagem que você trocou no WhatsApp em {date} foi analisada pela equipe de "
        'compliance segundo a política "{policy}".\n\n'
        "Nenhuma medida está sendo tomada. Este é um lembrete das regras de comunicação com "
        "clientes de {firm}: leia a política novamente e fale com a equipe de compliance se "
        "tiver alguma dúvida.\n\n"
        "{officer}\nCompliance, {firm}",
    ),
    ("warning", "pt-br"): NoticeText(
        "Uma advertência formal sobre uma mensagem de WhatsApp",
        "Olá, {employee},\n\n"
        "Uma mensagem que você trocou no WhatsApp em {date} foi analisada pela equipe de "
        'compliance, que concluiu que ela viola a política "{policy}".\n\n'
        "Esta é uma advertência formal e fica registrada. Siga as regras de comunicação com "
        "clientes de {firm}; a equipe de compliance entrará em contato se for preciso algo "
        "mais.\n\n"
        "{officer}\nCompliance, {firm}",
    ),
    ("policy_reminder", "es"): NoticeText(
        "Un recordatorio de la política de comunicación de {firm}",
        "Hola, {employee}:\n\n"
        "Un mensaje que intercambiaste por WhatsApp el {date} fue revisado por el equipo de "
        'cumplimiento según la política "{policy}".\n\n'
        "No se tomará ninguna medida. Esto es un recordatorio de las normas de comunicación con "
        "clientes de {firm}: vuelve a leer la política y consulta al equipo de cumplimiento si "
        "tienes alguna duda.\n\n"
        "{officer}\nCumplimiento, {firm}",
    ),
    ("warning", "es"): NoticeText(
        "Una advertencia formal sobre un mensaje de WhatsApp",
        "Hola, {employee}:\n\n"
        "Un mensaje que intercambiaste por WhatsApp el {date} fue revisado por el equipo de "
        'cumplimiento, que concluyó que incumple la política "{policy}".\n\n'
        "Esta es una advertencia formal y queda registrada. Sigue las normas de comunicación "
        "con clientes de {firm}; el equipo de cumplimiento se pondrá en contacto contigo si hace "
        "falta algo más.\n\n"
        "{officer}\nCumplimiento, {firm}",
    ),
}
DEFAULT_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = ("en", "pt-br", "es")


def default_text(kind: str, language: str) -> NoticeText:
    """The built-in wording of ``kind`` in ``language`` (English when there is none)."""
    return DEFAULTS.get((kind, language)) or DEFAULTS[(kind, DEFAULT_LANGUAGE)]


def unknown_placeholders(text: str) -> list[str]:
    """Names written as ``{name}`` that are not placeholders (an admin's typo, most likely)."""
    return sorted({name for name in _TOKEN.findall(text) if name not in PLACEHOLDERS})


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each known placeholder replaced by its value; everything else as written."""
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def one_line(text: str) -> str:
    """A subject line: a header cannot hold a line break (and a name could carry one)."""
    return " ".join(text.split())[:SUBJECT_MAX]


def template_problems(subject: str, body: str) -> list[str]:
    """What is wrong with an admin's template, in sentences for the page."""
    problems: list[str] = []
    if not subject.strip():
        problems.append("Write a subject.")
    if not body.strip():
        problems.append("Write the text of the notice.")
    if len(subject) > SUBJECT_MAX:
        problems.append(f"Keep the subject under {SUBJECT_MAX} characters.")
    if len(body) > BODY_MAX:
        problems.append(f"Keep the text under {BODY_MAX} characters.")
    unknown = unknown_placeholders(subject + "\n" + body)
    if unknown:
        names = ", ".join("{" + n + "}" for n in unknown)
        known = ", ".join("{" + n + "}" for n in PLACEHOLDERS)
        problems.append(f"Unknown placeholder {names}: the ones you can use are {known}.")
    return problems
