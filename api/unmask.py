"""What an unmasking request must say: a purpose from the configured list and a reason of its own words.

The audit log keeps ``purpose: reason`` with every unmasked read, so the reason must explain the read
to a later reviewer (at least ``CRM_GRAPH_API_UNMASK_REASON_MIN_CHARS`` characters, spaces not counted)
and must not itself become a second copy of personal data: a reason carrying a phone, resident-ID or
card number, however spaced or in full-width digits, is refused (see :mod:`api.free_text`).
"""

from __future__ import annotations

from graph.errors import InvalidRequest
from graph.settings import Settings
from loaders.free_text import identifier_kinds


def checked_reason(reason: str | None) -> str | None:
    """``reason`` with its spaces tidied (None when blank), refused when it carries an identifier."""
    if reason is None:
        return None
    kinds = identifier_kinds(reason)
    if kinds:
        found = ", ".join(kind.value.replace("_", " ") for kind in kinds)
        raise InvalidRequest(f"reason must not contain identifying numbers (found: {found}); refer to a case instead")
    return " ".join(reason.split()) or None


def audit_purpose(settings: Settings, purpose: str | None, reason: str | None) -> str:
    """The purpose recorded for an unmasked read, ``purpose: reason``, once both are acceptable."""
    allowed = settings.api_unmask_purposes
    if purpose not in allowed:
        raise InvalidRequest(f"unmask=true needs a purpose, one of: {', '.join(allowed)}")
    text = checked_reason(reason) or ""
    shortest = settings.api_unmask_reason_min_chars
    if len("".join(text.split())) < shortest:
        raise InvalidRequest(f"unmask=true needs a reason of at least {shortest} characters (spaces not counted)")
    return f"{purpose}: {text}"
