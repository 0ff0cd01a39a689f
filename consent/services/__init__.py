"""The verbs of the consent app (being split by topic; for now all in employees.py)."""

from .employees import *  # noqa: F403
