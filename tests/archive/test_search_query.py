"""The reviewers' query language (archive/search/query.py): the tree a search parses into, and
the message a malformed search gets. Pure: no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.search.query import (
    MAX_QUERY_LENGTH,
    And,
    Field,
    Near,
    Not,
    Or,
    Phrase,
    QueryError,
    Term,
    leaves,
    parse,
)


def t(text: str, field: Field = Field.BODY, prefix: bool = False) -> Term:
    return Term(text, field, prefix)


def test_terms_side_by_side_are_all_required():
    assert parse("merger acquisition") == And((t("merger"), t("acquisition")))
    assert parse("merger AND acquisition") == parse("merger acquisition")


def test_not_is_a_real_negation_not_a_dropped_stop_word():
    assert parse("merger NOT confidential") == And((t("merger"), Not(t("confidential"))))
    assert parse("merger -confidential") == parse("merger NOT confidential")
    assert parse("NOT NOT a") == Not(Not(t("a")))


def test_a_minus_inside_a_term_or_before_a_digit_is_part_of_the_term():
    assert parse("e-mail") == t("e-mail")
    assert parse("-5") == t("-5")


def test_operators_are_case_insensitive_and_quoting_searches_the_word_itself():
    assert parse("a and b or not c") == parse("a AND b OR NOT c")
    assert parse('"not" "and"') == And((Phrase("not"), Phrase("and")))


def test_and_binds_tighter_than_or_and_parentheses_override():
    assert parse("a OR b c") == Or((t("a"), And((t("b"), t("c")))))
    assert parse("a b OR c") == Or((And((t("a"), t("b"))), t("c")))
    assert parse("(a OR b) AND c") == And((Or((t("a"), t("b"))), t("c")))
    assert parse("a OR b OR c") == Or((t("a"), t("b"), t("c")))


def test_proximity_binds_tighter_than_and_and_not_tighter_than_proximity():
    assert parse("a b w/3 c") == And((t("a"), Near(t("b"), t("c"), 3, False)))
    assert parse("a w/3 b OR c") == Or((Near(t("a"), t("b"), 3, False), t("c")))
    with pytest.raises(QueryError, match="w/3 at character 7 can join words"):
        parse("NOT a w/3 b")


def test_proximity_in_either_order_and_ordered():
    assert parse("buy w/3 shares") == Near(t("buy"), t("shares"), 3, ordered=False)
    assert parse("buy W/3 shares") == parse("buy w/3 shares")
    assert parse("buy pre/2 shares") == Near(t("buy"), t("shares"), 2, ordered=True)
    assert parse("buy PRE/2 shares") == parse("buy pre/2 shares")


def test_proximity_accepts_prefixes_and_or_groups_of_words():
    assert parse("(buy OR sell*) w/5 shares") == Near(
        Or((t("buy"), t("sell", prefix=True))), t("shares"), 5, False
    )


def test_phrases_keep_their_words_in_order_with_spaces_collapsed():
    assert parse('"exact   phrase"') == Phrase("exact phrase")
    assert parse('say "buy now" please') == And((t("say"), Phrase("buy now"), t("please")))


def test_prefixes():
    assert parse("invest*") == t("invest", prefix=True)
    assert parse("aç*") == t("aç", prefix=True)


def test_fields_scope_a_term_a_phrase_or_a_group():
    assert parse("from:ana") == t("ana", Field.FROM)
    assert parse("TO:ana") == t("ana", Field.TO)
    assert parse('from:"ana souza"') == Phrase("ana souza", Field.FROM)
    assert parse("filename:report.pdf") == t("report.pdf", Field.FILENAME)
    assert parse("body:invest*") == t("invest", Field.BODY, prefix=True)
    assert parse("from:(ana OR bruno) -merger") == And(
        (Or((t("ana", Field.FROM), t("bruno", Field.FROM))), Not(t("merger")))
    )
    assert parse("to:(a w/2 b)") == Near(t("a", Field.TO), t("b", Field.TO), 2, False)


def test_words_with_a_colon_that_are_no_field_stay_words():
    assert parse("10:30") == t("10:30")
    assert parse("https://example.com/x") == t("https://example.com/x")


def test_the_tree_is_immutable():
    node = parse("a b")
    with pytest.raises(AttributeError):
        node.operands = ()  # type: ignore[misc]


def test_leaves_lists_every_term_left_to_right():
    assert leaves(parse('a (b OR "c d") NOT e f w/2 g')) == [
        t("a"),
        t("b"),
        Phrase("c d"),
        t("e"),
        t("f"),
        t("g"),
    ]


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("", "The search is empty: type at least one word.", 0),
        ("   \t", "The search is empty: type at least one word.", 0),
        ('merger "buy now', "The quote that opens at character 8 is never closed.", 8),
        ("(a OR b", "The parenthesis that opens at character 1 is never closed.", 1),
        ("((a) OR b", "The parenthesis that opens at character 1 is never closed.", 1),
        ("a OR b)", "The parenthesis at character 7 closes nothing.", 7),
        (")", "The parenthesis at character 1 closes nothing.", 1),
        ("a ()", "The parentheses at character 3 hold nothing.", 3),
        ('a ""', "The quotes at character 3 hold no words.", 3),
        ("merger AND", "AND at character 8 has nothing after it.", 8),
        ("AND merger", "AND at character 1 has nothing before it.", 1),
        ("a OR OR b", "OR at character 3 has nothing after it.", 3),
        ("a OR", "OR at character 3 has nothing after it.", 3),
        ("(a OR) b", "OR at character 4 has nothing after it.", 4),
        ("NOT", "NOT at character 1 has nothing after it.", 1),
        ("merger -", None, None),  # a lone minus is a term with nothing to search: the compiler
        ("w/3 shares", "w/3 at character 1 has nothing before it.", 1),
        ("buy w/3", "w/3 at character 5 has nothing after it.", 5),
        ("buy w/0 shares", "w/0 at character 5: the distance must be 1 to 100.", 5),
        ("buy pre/0 shares", "pre/0 at character 5: the distance must be 1 to 100.", 5),
        ("buy w/101 shares", "w/101 at character 5: the distance must be 1 to 100.", 5),
        ("buy w/99999999999 x", "w/99999999999 at character 5: the distance must be 1 to 100.", 5),
        ("buy w/x shares", "w/x at character 5: put a number of words after the slash", 5),
        ("buy w/ shares", "w/ at character 5: put a number of words after the slash", 5),
        ("buy w/٣ shares", "w/٣ at character 5: put a number of words after the slash", 5),
        ("*", "'*' at character 1: a wildcard needs at least 2 letters before it.", 1),
        ("a b*", "'b*' at character 3: a wildcard needs at least 2 letters before it.", 3),
        ("in*vest", "'in*vest' at character 1: a wildcard * may only end a term.", 1),
        ("subject:merger", "'subject:' at character 1 is not a field we know", 1),
        ("a re:b", "'re:' at character 3 is not a field we know", 3),
        ("from:", "from: at character 1 has no term after it.", 1),
        ("from: AND b", "from: at character 1 has no term after it.", 1),
        ("from:-a", "from: at character 1 must be followed by a term", 1),
        ("from:(to:ana)", "to: at character 7 is inside a from: group; a term has one field.", 7),
        ('"buy now" w/3 shares', "w/3 at character 11 can join words, prefixes or a group", 11),
        ("(a b) w/3 c", "w/3 at character 7 can join words, prefixes or a group", 7),
        ("a w/3 (b OR NOT c)", "w/3 at character 3 can join words, prefixes or a group", 3),
        ("a w/3 b w/2 c", "w/2 at character 9: one proximity per group", 9),
        ("from:a w/3 b", "w/3 at character 8 joins two different fields.", 8),
    ],
)
def test_bad_queries_get_a_message_that_points_at_the_problem(query, message, position):
    if message is None:
        parse(query)
        return
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert caught.value.message.startswith(message)
    assert caught.value.position == position


def test_a_query_past_the_limit_is_refused_with_both_lengths():
    parse("a " * (MAX_QUERY_LENGTH // 2))
    with pytest.raises(QueryError) as caught:
        parse("merger " * 1430)
    assert caught.value.message == (
        "This search is 10,010 characters long; the limit is 2,000. Split it into several searches."
    )


@given(st.text(alphabet=st.sampled_from(list('ab ()"*-:/w3 ANDORNOTfrom')), max_size=40))
def test_any_input_parses_or_gets_a_query_error(text):
    try:
        node = parse(text)
    except QueryError as error:
        assert error.message
        assert 0 <= error.position <= len(text)
    else:
        assert leaves(node)
