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
from typing import Any, TypeGuard

from api.models import CustomerPublic, CustomerStub
from loaders.identifiers import keyed_hash, mask_name, mask_resident_id

STUB_PURPOSE = "api-opaque-id"
_LONG_MASK = re.compile(r"\*{3,}")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_person(fields: Mapping[str, Any]) -> bool:
    kind = str(fields.get("label") or fields.get("kind") or "Person")
    return kind != "Company"


def display_name(fields: Mapping[str, Any], *, unmask: bool) -> str | None:
    name = fields.get("name")
    if not isinstance(name, str):
        return None
    return name if unmask or not is_person(fields) else mask_name(name)


TEXT_FIELDS = (
    "gender",
    "city",
    "segment",
    "status",
    "customer_since",
    "phone_masked",
    "industry",
    "tier",
    "lifecycle_stage",
    "cluster_id",
)
"""Fields every caller who sees the customer is shown as text, as stored."""

NUMBER_FIELDS = ("deposits", "loans", "churn_risk")
"""Fields every caller who sees the customer is shown as numbers (a value that is not a number is left out)."""


def public_customer(fields: Mapping[str, Any], *, unmask: bool, name_in_clear: bool = False) -> CustomerPublic:
    """The caller's view of a customer they may see; ``name_in_clear`` shows the name alone in clear (a
    manager's own customer), ``unmask`` every personal field.

    Only the fields that have a value are passed on (the rest keep the model's default, None): a network
    shows dozens of customers of which the query read five fields each.
    """
    get = fields.get
    person = is_person(fields)
    shown: dict[str, Any] = {name: str(value) for name in TEXT_FIELDS if (value := get(name)) is not None}
    for name in NUMBER_FIELDS:
        if _is_number(value := get(name)):
            shown[name] = float(value)
    if _is_number(aum := get("aum", get("assets_under_management"))):
        shown["aum"] = float(aum)
    birth_date = _text(get("birth_date"))
    birth_year = get("birth_year")
    if birth_year is None and birth_date and birth_date[:4].isdigit():
        birth_year = int(birth_date[:4])
    if isinstance(birth_year, int) and not isinstance(birth_year, bool):
        shown["birth_year"] = birth_year
    if unmask and birth_date is not None:
        shown["birth_date"] = birth_date
    if (address := get("address")) is not None and (unmask or not person):
        shown["address"] = str(address)
    if isinstance(consent := get("consent_marketing"), bool):
        shown["consent_marketing"] = consent
    if isinstance(resident_id := get("resident_id_masked"), str):
        shown["resident_id_masked"] = mask_resident_id(resident_id)
    if (credit_code := get("credit_code")) is not None and not person:
        shown["credit_code"] = str(credit_code)
    return CustomerPublic(
        id=str(get("id") or get("customer_id")),
        kind="Person" if person else "Company",
        name=display_name(fields, unmask=unmask or name_in_clear),
        masked=person and not unmask,
        **shown,
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
