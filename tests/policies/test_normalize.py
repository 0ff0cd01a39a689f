from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.detectors.normalize import NormalizedText, normalize, normalize_batch


def highlight(normalized: NormalizedText, term: str) -> str:
    """What the alert page would highlight for `term` found in the normalized text."""
    start = normalized.text.index(term)
    begin, end = normalized.original_span(start, start + len(term))
    return normalized.original[begin:end]


@pytest.mark.parametrize(
    ("written", "reads"),
    [
        ("Ações da Petrobras", "acoes da petrobras"),
        ("una operación SEGURA", "una operacion segura"),
        ("GARANTIDO", "garantido"),
        ("Straße", "strasse"),
        ("ｇｕａｒａｎｔｅｅｄ ｒｅｔｕｒｎｓ", "guaranteed returns"),
        ("ﬁxed proﬁt", "fixed profit"),
        ("guar\u200banteed re\u200dturns\ufeff", "guaranteed returns"),
        ("gu4r4nt33d", "guaranteed"),
        ("r1sk-fr33 deal", "risk-free deal"),
        ("guaranteeeed", "guaranteed"),
        ("sooo GOOOOD", "soo good"),
        ("cafe\u0301", "cafe"),
    ],
)
def test_what_people_vary_when_typing_reads_the_same(written: str, reads: str) -> None:
    assert normalize(written).text == reads


@pytest.mark.parametrize(
    "text",
    [
        "R$ 1.500,00 on 12/05/2024",
        "order ORD1034 ships at 10am on the 2nd",
        "covid19 test, 5k run, 3rd floor, 1000 units",
        "INV-2024-0012 and ticket 4417",
        "call +55 11 91111-0000",
    ],
)
def test_amounts_dates_and_ids_are_not_read_as_leetspeak(text: str) -> None:
    assert normalize(text).text == text.lower()


def test_spans_in_the_normalized_text_highlight_what_the_person_wrote() -> None:
    normalized = normalize("Olá! As AÇÕES são gu4r4nt33d 😀 sooo bom")
    assert highlight(normalized, "acoes") == "AÇÕES"
    assert highlight(normalized, "guaranteed") == "gu4r4nt33d"
    assert highlight(normalized, "soo bom") == "sooo bom"


def test_a_decomposed_accent_is_highlighted_with_its_letter() -> None:
    normalized = normalize("ac\u0327o\u0303es garantidas")
    assert normalized.text == "acoes garantidas"
    assert highlight(normalized, "acoes") == "ac\u0327o\u0303es"


def test_removed_invisible_characters_stay_inside_the_highlight() -> None:
    normalized = normalize("keep it off\u200b the re\u200bcord")
    assert highlight(normalized, "record") == "re\u200bcord"


def test_a_collapsed_run_is_highlighted_whole() -> None:
    normalized = normalize("GUARANTEEEEED!!")
    assert highlight(normalized, "guaranteed") == "GUARANTEEEEED"


def test_expanding_forms_map_every_piece_to_their_one_original_character() -> None:
    normalized = normalize("Die Straße ﬁnden")
    assert normalized.text == "die strasse finden"
    assert highlight(normalized, "strasse") == "Straße"
    assert highlight(normalized, "finden") == "ﬁnden"
    # Half of a ligature still highlights the whole ligature, never half a character.
    assert normalized.original_span(12, 13) == (11, 12)


def test_emoji_and_skin_tones_keep_their_offsets() -> None:
    normalized = normalize("👍🏽👨\u200d👩\u200d👧 guaranteed")
    assert highlight(normalized, "guaranteed") == "guaranteed"
    assert normalized.text.startswith("👍🏽")


def test_rtl_text_and_bidi_marks() -> None:
    normalized = normalize("\u200fמובטח guaranteed \u202bعائد مضمون\u202c")
    assert "\u200f" not in normalized.text
    assert highlight(normalized, "guaranteed") == "guaranteed"
    # Terms go through the same normalization (NFKD splits the hamza off its seat here).
    assert highlight(normalized, normalize("عائد مضمون").text) == "عائد مضمون"


def test_lone_surrogates_pass_through_without_an_error() -> None:
    text = "bad \ud83d bytes GUARANTEED \udc00"
    normalized = normalize(text)
    assert highlight(normalized, "guaranteed") == "GUARANTEED"
    assert "\ud83d" in normalized.text


def test_devanagari_keeps_its_vowel_signs() -> None:
    assert normalize("गारंटी नहीं").text == "गारंटी नहीं"


def test_empty_and_binary_looking_text() -> None:
    assert normalize("").text == ""
    assert normalize("").original_span(0, 0) == (0, 0)
    binary = "\x00\x01\x7f\xff\ufffd" * 10
    assert len(normalize(binary).text) == len(binary)


def test_a_huge_message_is_normalized_whole() -> None:
    text = "Ações gu4r4nt33d\u200b " * 5_000  # about 100 KB
    normalized = normalize(text)
    assert normalized.text.count("acoes guaranteed") == 5_000
    last = normalized.text.rindex("guaranteed")
    begin, end = normalized.original_span(last, last + len("guaranteed"))
    assert text[begin:end] == "gu4r4nt33d"


def test_a_span_outside_the_normalized_text_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        normalize("abc").original_span(2, 9)


def test_a_batch_keeps_its_order() -> None:
    assert [n.text for n in normalize_batch(["A", "É", "ｃ"])] == ["a", "e", "c"]


@given(st.text(max_size=60))
def test_every_normalized_character_maps_into_the_original_in_order(text: str) -> None:
    normalized = normalize(text)
    previous_start = 0
    for index in range(len(normalized.text)):
        start, end = normalized.original_span(index, index + 1)
        assert 0 <= start < end <= len(text)
        assert start >= previous_start
        previous_start = start
    begin, end = normalized.original_span(0, len(normalized.text))
    assert 0 <= begin <= end <= len(text)


def test_cyrillic_and_greek_lookalikes_inside_latin_words_read_as_latin() -> None:
    disguised = "gu\u0430ranteed r\u0435turns, \u03c1rofit"  # Cyrillic а, е; Greek ρ
    normalized = normalize(disguised)
    assert normalized.text == "guaranteed returns, profit"
    assert highlight(normalized, "returns") == "r\u0435turns"


def test_words_wholly_in_cyrillic_or_greek_are_left_alone() -> None:
    assert normalize("Привет, как дела? Ελλάδα").text == "привет, как дела? ελλαδα"
