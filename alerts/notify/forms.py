"""Forms of notifications and notices (parse only: the services decide)."""

from __future__ import annotations

from django import forms

from .models import Kind, NoticeKind
from .notices import BODY_MAX, LANGUAGES, SUBJECT_MAX

LANGUAGE_WORDS = {"en": "English", "pt-br": "Portuguese (Brazil)", "es": "Spanish"}
LANGUAGE_CHOICES = [(code, LANGUAGE_WORDS[code]) for code in LANGUAGES]
DELIVERY = [("immediate", "An email for each, as it happens"), ("digest", "One email a day")]


class PreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        choices=Kind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        label="Email me when",
    )  # fmt: skip
    delivery = forms.ChoiceField(
        choices=DELIVERY, widget=forms.RadioSelect, initial="immediate", label="How"
    )


class NoticeForm(forms.Form):
    kind = forms.ChoiceField(choices=NoticeKind.choices, label="Notice")
    language = forms.ChoiceField(choices=LANGUAGE_CHOICES, label="Language")


class NoticeTemplateForm(forms.Form):
    subject = forms.CharField(max_length=SUBJECT_MAX, label="Subject")
    body = forms.CharField(
        max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 10}), label="Text"
    )
