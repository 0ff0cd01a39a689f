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


SOURCE_SEARCH, SOURCE_HOLD = "search", "hold"
SOURCE_CHOICES = [
    (SOURCE_SEARCH, "A search: the messages the words and filters below find"),
    (SOURCE_HOLD, "A legal hold: every message the hold covers, active or released"),
]


class ExportForm(MessageSearchForm):
    """What to export (a search's words and filters, or a legal hold) and how (formats), for
    which matter."""

    # Not required: a post without it (a search page's older form, a script) is a search.
    source = forms.ChoiceField(
        choices=SOURCE_CHOICES, initial=SOURCE_SEARCH, widget=forms.RadioSelect,
        label="Export", required=False,
    )  # fmt: skip
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
        self.order_fields(["source", "legal_hold", "q", "matter", "formats"])
        self.fields["legal_hold"].help_text = (
            "With a legal hold: the hold to export (its matter is the export's unless you type "
            "one). With a search: only the matches this hold covers."
        )
        self.fields["matter"].help_text = (
            "The case or request this export answers; written into the package. Empty with a "
            "legal hold: the hold's matter."
        )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("source") == SOURCE_HOLD and not data.get("legal_hold"):
            self.add_error("legal_hold", "Choose the legal hold to export.")
        return data

    @property
    def by_hold(self) -> bool:
        return self.cleaned_data.get("source") == SOURCE_HOLD

    def search_filters(self) -> SearchFilters:
        criteria = self.criteria()
        criteria.pop("order", None)
        if self.by_hold:
            criteria["legal_hold"] = None  # the hold is what is exported, not a filter
        return SearchFilters(**criteria)

    def hold_id(self) -> int | None:
        return self.cleaned_data["legal_hold"].pk if self.by_hold else None
