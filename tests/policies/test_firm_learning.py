"""The pure side of the learning loop: decisions as training lines, the split by conversation,
and the rule that decides whether a new model may replace the one in use."""

from __future__ import annotations

from policies.ml import learning
from policies.ml.decision import Decision


def _decision(key: str, message: int, conversation: int, *, tp: bool, cats=("guarantee",)):
    return Decision(key, message, conversation, f"text of {message}", tuple(cats), tp)


def test_true_positives_teach_their_categories_and_false_positives_what_they_are_not():
    lines = learning.examples_from(
        [
            _decision("alert-1", 1, 10, tp=True, cats=("guarantee", "promise")),
            _decision("alert-2", 1, 10, tp=False, cats=("secrecy",)),  # same message
            _decision("alert-3", 2, 11, tp=False),
            Decision("alert-4", 3, 12, "   ", ("guarantee",), True),  # disposed: no text
        ]
    )
    assert [(line.source, line.labels, line.kind, line.group) for line in lines] == [
        ("alert-1", ("guarantee",), "positive", "conversation-10"),
        ("alert-3", (), "hard_negative", "conversation-11"),
    ]


def test_the_split_never_puts_one_conversation_on_both_sides():
    decisions = [_decision(f"a{n}", n, n // 3, tp=n % 2 == 0) for n in range(300)]
    train, held = learning.split_firm(learning.examples_from(decisions))
    assert train and held
    assert not {line.group for line in train} & {line.group for line in held}


def _report(macro: float, **f1s: float) -> dict[str, object]:
    return {
        "macro_f1": macro,
        "categories": {c: {"f1": f, "positives": 3} for c, f in f1s.items()},
    }


def test_a_model_is_better_when_its_average_holds_and_no_category_drops_past_the_margin():
    current = _report(0.8, guarantee=0.8, secrecy=0.8)
    assert learning.compare(current, _report(0.8, guarantee=0.81, secrecy=0.79), margin=0.02).better
    worse = learning.compare(current, _report(0.79, guarantee=0.8, secrecy=0.78), margin=0.02)
    assert not worse.better and worse.reasons == ("its average F1 is lower (0.790 against 0.800)",)
    dropped = learning.compare(current, _report(0.85, guarantee=0.95, secrecy=0.75), margin=0.02)
    assert dropped.reasons == ("secrecy drops from 0.800 to 0.750 (more than the 0.02 allowed)",)
    lost = learning.compare(current, _report(0.9, guarantee=0.9), margin=0.02)
    assert lost.reasons == ("secrecy drops from 0.800 to 0.000 (more than the 0.02 allowed)",)
