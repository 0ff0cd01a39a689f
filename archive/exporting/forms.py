"""The export page's form: the search page's query and filters, the formats and the matter."""

from __future__ import annotations

from django import forms

from ..forms import MessageSearchForm
from ..search.selectors import SearchFilters
from .services import MAX_MATTER

FORMAT_CHOICES = [
    ("rsmf", "RSMF 2.0, for Relativity and other review tools (one file per conversation day)"),
    ("eml", "E-mails (.eml), one per conversation day, for e-mail review tools"),
    ("csv", "A spreadsheet (CSV), one row per message and change"),
    ("jsonl", "JSON Lines, one record per message and change"),
    ("html", "Readable transcripts (HTML), one per conversation, with the media files"),
    ("media", "The media files as captured"),
]
DEFAULT_FORMATS = ["rsmf", "csv", "html"]


class ExportForm(MessageSearchForm):
    """What to export (the search's words and filters) and how (formats), for which matter."""

    matter = forms.CharField(
        required=False,
        max_length=MAX_MATTER,
        label="Matter",
        help_text="The case or request this export answers; written into the package.",
    )
    formats = forms.MultipleChoiceField(
        choices=FORMAT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Formats",
        error_messages={"required": "Choose at least one format."},
    )

    def __init__(self, *args, tenant, **kwargs) -> None:
        super().__init__(*args, tenant=tenant, **kwargs)
        del self.fields["order"]  # an export keeps every match; its order is the bag's own
        self.order_fields(["q", "matter", "formats"])

    def search_filters(self) -> SearchFilters:
        criteria = self.criteria()
        criteria.pop("order", None)
        return SearchFilters(**criteria)
