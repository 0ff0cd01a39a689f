"""OptionListSelect (compliance_hub/forms.py) writes exactly what Django's select templates write:
the same options, labels, selection and attributes, escaped the same way. No database."""

from __future__ import annotations

from django import forms

from compliance_hub.forms import OptionListSelect

CHOICES = [
    ("", "Any employee"),
    ("7", "Ana Souza (A-1)"),
    ("8", "<script>alert(1)</script> (A-2)"),
    ("9", "Quote \" and & and ' (A-3)"),
    (10, "An int value"),
]
GROUPED = [
    ("", "Anyone"),
    ("Desk <1>", [("1", "One"), ("2", "Two & two")]),
    ("Desk 2", [("3", "Three")]),
]


def _both(choices, value, attrs=None) -> tuple[str, str]:
    ours = OptionListSelect(choices=choices).render("employee", value, attrs=attrs)
    django = forms.Select(choices=choices).render("employee", value, attrs=attrs)
    return str(ours), str(django)


def test_the_options_are_written_as_djangos_templates_write_them():
    for value in (None, "", "7", "8", 10, "10", "missing"):
        ours, django = _both(CHOICES, value)
        assert ours == django, value


def test_names_are_text_not_markup():
    ours, _ = _both(CHOICES, "8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (A-2)" in ours
    assert "<script>" not in ours
    assert 'value="8" selected>' in ours  # the chosen one stays chosen


def test_attributes_groups_and_booleans_match_too():
    attrs = {"id": "id_employee", "aria-describedby": 'x" onclick="1', "required": True,
             "disabled": False}  # fmt: skip
    ours, django = _both(GROUPED, "2", attrs)
    assert ours == django
    assert 'aria-describedby="x&quot; onclick=&quot;1"' in ours and " disabled" not in ours
    assert '<optgroup label="Desk &lt;1&gt;">' in ours


def test_a_form_field_renders_the_same_through_the_bound_field():
    class Both(forms.Form):
        ours = forms.ChoiceField(choices=CHOICES, required=False, widget=OptionListSelect)
        django = forms.ChoiceField(choices=CHOICES, required=False)

    form = Both({"ours": "9", "django": "9"})
    assert form.is_valid()
    assert str(form["ours"]).replace("ours", "x") == str(form["django"]).replace("django", "x")
