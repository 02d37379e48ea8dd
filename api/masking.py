"""Turning store fields into what a caller may see: masked by default, stubs for customers out of sight.

Pure functions over flat field mappings (a node's stored properties, or :mod:`api.shaping`'s fields).
What is personal: a person's name (masked with :func:`loaders.identifiers.mask_name`), birth date (only the
year shown), address (hidden). Phones and resident ids are stored only masked and hashed: the masked form is shown, the
hashes never. Company names and credit codes are public registry data and are shown as they are.

A resident id's mask is applied again on the way out (:func:`loaders.identifiers.mask_resident_id`
keeps region and check character only), so that a store loaded under an earlier, looser mask shows
no more than the current rule allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from api.models import CustomerPublic, CustomerStub
from loaders.identifiers import keyed_hash, mask_name, mask_resident_id

STUB_PURPOSE = "api-opaque-id"
_LONG_MASK = re.compile(r"\*{3,}")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _resident_id_mask(stored: Any) -> str | None:
    return mask_resident_id(stored) if isinstance(stored, str) else None


def is_person(fields: Mapping[str, Any]) -> bool:
    kind = str(fields.get("label") or fields.get("kind") or "Person")
    return kind != "Company"


def display_name(fields: Mapping[str, Any], *, unmask: bool) -> str | None:
    name = fields.get("name")
    if not isinstance(name, str):
        return None
    return name if unmask or not is_person(fields) else mask_name(name)


def public_customer(fields: Mapping[str, Any], *, unmask: bool, name_in_clear: bool = False) -> CustomerPublic:
    """The caller's view of a customer they may see; ``name_in_clear`` shows the name alone in clear (a
    manager's own customer), ``unmask`` every personal field."""
    birth_date = _text(fields.get("birth_date"))
    birth_year = fields.get("birth_year")
    if birth_year is None and birth_date and birth_date[:4].isdigit():
        birth_year = int(birth_date[:4])
    person = is_person(fields)
    return CustomerPublic(
        id=str(fields.get("id") or fields.get("customer_id")),
        kind="Person" if person else "Company",
        name=display_name(fields, unmask=unmask or name_in_clear),
        masked=person and not unmask,
        gender=_text(fields.get("gender")),
        birth_year=birth_year if isinstance(birth_year, int) and not isinstance(birth_year, bool) else None,
        birth_date=birth_date if unmask else None,
        city=_text(fields.get("city")),
        address=_text(fields.get("address")) if unmask or not person else None,
        segment=_text(fields.get("segment")),
        status=_text(fields.get("status")),
        customer_since=_text(fields.get("customer_since")),
        consent_marketing=fields.get("consent_marketing")
        if isinstance(fields.get("consent_marketing"), bool)
        else None,
        phone_masked=_text(fields.get("phone_masked")),
        resident_id_masked=_resident_id_mask(fields.get("resident_id_masked")),
        industry=_text(fields.get("industry")),
        credit_code=None if person else _text(fields.get("credit_code")),
        tier=_text(fields.get("tier")),
        aum=_number(fields.get("aum", fields.get("assets_under_management"))),
        deposits=_number(fields.get("deposits")),
        loans=_number(fields.get("loans")),
        lifecycle_stage=_text(fields.get("lifecycle_stage")),
        churn_risk=_number(fields.get("churn_risk")),
        cluster_id=_text(fields.get("cluster_id")),
    )


def opaque_id(customer_id: str, key: bytes) -> str:
    """A stable stand-in for a customer id that cannot be turned back into it without the key."""
    return "x-" + keyed_hash(customer_id, key, purpose=STUB_PURPOSE)[:16]


def stub_name(name: Any) -> str:
    """A stub's name: masked, each run of stars cut to two. A company's name masked in full is a row of stars as
    long as the name ('杭*********'): it reads badly on a graph and tells the name's length for nothing."""
    if not isinstance(name, str) or not name.strip():
        return "**"
    return _LONG_MASK.sub("**", mask_name(name))


def stub(fields: Mapping[str, Any], key: bytes, tie_type: str | None = None) -> CustomerStub:
    """A customer out of the caller's sight: opaque id, masked name, the tie that reached it."""
    return CustomerStub(
        opaque_id=opaque_id(str(fields.get("id") or fields.get("customer_id")), key),
        name=stub_name(fields.get("name")),
        tie_type=tie_type,
    )
