"""Numbers in free text found by regular expressions alike to a reading character by character (the rule the
module states: runs of digits of any script, up to three spaces or dashes between two digits, a final X)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from loaders.free_text import CHECK_CHARACTERS, DASHES, MOST_SEPARATORS, SHORTEST_IDENTIFIER, find_numbers

DIGITS = [*"0123456789", *"０１２３４５６７８９", *"٠١٢٣"]  # ASCII, full-width and Arabic-Indic
PIECES = [*DIGITS, " ", "\u3000", "\t", *DASHES, *CHECK_CHARACTERS, ",", "|", "a", "号", ":"]


def _digit(char: str) -> str | None:
    value = unicodedata.decimal(char, None)
    return None if value is None else str(value)


def _separator(char: str) -> bool:
    return char.isspace() or char in DASHES


def by_characters(text: str) -> list[tuple[int, int, str]]:
    """(start, end, ASCII digits) of every run of at least 11 digits, read one character at a time."""
    found = []
    position = 0
    while position < len(text):
        if _digit(text[position]) is None:
            position += 1
            continue
        start, digits, cursor = position, [], position
        end = cursor
        while True:
            while cursor < len(text) and (digit := _digit(text[cursor])) is not None:
                digits.append(digit)
                cursor += 1
            end, gap = cursor, cursor
            while gap < len(text) and _separator(text[gap]) and gap - cursor < MOST_SEPARATORS:
                gap += 1
            if gap > cursor and gap < len(text) and _digit(text[gap]) is not None:
                cursor = gap
                continue
            if len(digits) == 17 and gap < len(text) and text[gap] in CHECK_CHARACTERS:
                digits.append("X")
                end = gap + 1
            break
        if len(digits) >= SHORTEST_IDENTIFIER:
            found.append((start, end, "".join(digits)))
        position = end
    return found


@pytest.mark.parametrize("seed", range(5))
def test_numbers_are_found_as_a_reading_character_by_character_finds_them(seed: int) -> None:
    generator = random.Random(seed)
    texts = 0
    for _ in range(2000):
        # Mostly digits: long runs, 17-digit runs before a check character and gaps of 1-4 separators all occur.
        weights = [6 if piece in DIGITS else 1 for piece in PIECES]
        text = "".join(generator.choices(PIECES, weights, k=generator.randint(0, 60)))
        expected = by_characters(text)
        texts += bool(expected)
        assert [(number.start, number.end, number.digits) for number in find_numbers(text)] == expected, text
    assert texts > 100  # the texts did hold numbers to find


def test_a_check_character_after_three_separators_ends_a_resident_id_and_after_four_does_not() -> None:
    digits = "11010519491231002"
    assert find_numbers(f"{digits} -\u3000x")[0].digits == f"{digits}X"
    assert find_numbers(f"{digits} - \u3000x")[0].digits == digits
