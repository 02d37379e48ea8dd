"""Tests for the display masks and the keyed hash of personal identifiers."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from loaders.identifiers import (
    keyed_hash,
    keyed_hashes,
    mask_card,
    mask_name,
    mask_phone,
    mask_resident_id,
)
from tests.loaders.identifier_samples import GB11643_EXAMPLE

# --------------------------------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("19900000001", "199****0001"), ("1234567", "*******"), ("", "")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("4111111111111111", "411111******1111"),
        ("4222222222222", "422222***2222"),
        ("6222021001123456789", "622202*********6789"),
        ("1234567890", "**********"),
    ],
)
def test_mask_card(number: str, masked: str) -> None:
    assert mask_card(number) == masked


@pytest.mark.parametrize(
    ("id18", "masked"),
    [(GB11643_EXAMPLE, "110105***********X"), ("440305200002291234", "440305***********4")],
)
def test_mask_resident_id(id18: str, masked: str) -> None:
    assert mask_resident_id(id18) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("张", "张"),
        (" 李四 ", "李*"),
        ("John Smith", "J*** S****"),
        ("Mary Anne O'Neil", "M*** A*** O*****"),
        ("Li", "L*"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_masks_keep_length() -> None:
    for value, mask in [
        ("13812345678", mask_phone),
        ("6222021001123456789", mask_card),
        (GB11643_EXAMPLE, mask_resident_id),
    ]:
        assert len(mask(value)) == len(value)


# --------------------------------------------------------------------------------------------------
# Keyed hashes
# --------------------------------------------------------------------------------------------------

KEY = b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210"


def test_keyed_hash_is_deterministic_and_32_hex_chars() -> None:
    first = keyed_hash("13812345678", KEY, purpose="customer-match")
    assert first == keyed_hash("13812345678", KEY, purpose="customer-match")
    assert re.fullmatch(r"[0-9a-f]{32}", first)


def test_keyed_hash_matches_hmac_sha256_of_purpose_and_value() -> None:
    expected = hmac.new(KEY, b"customer-match:13812345678", hashlib.sha256).hexdigest()[:32]
    assert keyed_hash("13812345678", KEY, purpose="customer-match") == expected


def test_keyed_hash_depends_on_the_key() -> None:
    assert keyed_hash("13812345678", KEY, purpose="customer-match") != keyed_hash(
        "13812345678", OTHER_KEY, purpose="customer-match"
    )


def test_keyed_hash_depends_on_the_purpose() -> None:
    assert keyed_hash("13812345678", KEY, purpose="customer-match") != keyed_hash(
        "13812345678", KEY, purpose="watch-list"
    )


def test_keyed_hash_depends_on_the_value() -> None:
    assert keyed_hash("13812345678", KEY, purpose="customer-match") != keyed_hash(
        "13812345679", KEY, purpose="customer-match"
    )


def test_keyed_hash_does_not_contain_the_value() -> None:
    assert "13812345678" not in keyed_hash("13812345678", KEY, purpose="customer-match")


@pytest.mark.parametrize(
    ("key", "purpose"),
    [(b"", "customer-match"), (KEY, ""), (KEY, "customer:match")],
)
def test_keyed_hash_rejects_empty_key_and_ambiguous_purpose(key: bytes, purpose: str) -> None:
    with pytest.raises(ValueError):
        keyed_hash("13812345678", key, purpose=purpose)


@pytest.mark.parametrize("key", [b"k", b"a key of 32 bytes, as settings..", bytes(range(64)), bytes(range(200))])
def test_keyed_hashes_are_the_hmac_of_purpose_and_value(key: bytes) -> None:
    values = ["13812345678", "张三", "", "110105194912310021", "x" * 300]
    expected = [hmac.new(key, f"customer-P:{value}".encode(), "sha256").hexdigest()[:32] for value in values]
    assert keyed_hashes(values, key, purpose="customer-P") == expected
