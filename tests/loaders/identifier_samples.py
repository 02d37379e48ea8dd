"""Identifiers built for tests: valid numbers with their check characters, and their variants."""

from __future__ import annotations

from datetime import date

from loaders.identifiers import credit_code_check_char, luhn_check_digit, resident_id_check_digit

TODAY = date(2024, 6, 15)
GB11643_EXAMPLE = "11010519491231002X"
"""The standard's own worked example."""


def resident_id(region: str, birth: str, sequence: str) -> str:
    first17 = region + birth + sequence
    return first17 + resident_id_check_digit(first17)


def credit_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


def card(partial: str) -> str:
    return partial + luhn_check_digit(partial)


def wrong_last(value: str, alphabet: str) -> str:
    """``value`` with its last character replaced by a different one from ``alphabet``."""
    replacement = next(char for char in alphabet if char != value[-1])
    return value[:-1] + replacement


def full_width(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)
