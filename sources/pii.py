"""Personal data stops here: pseudonymise identifiers, drop names and phone numbers.

Decree 13/2023/NĐ-CP and the provincial plan (III.1.6) forbid spreading the applicant's
data. The connector scrubs a record *before* anything else looks at it (validation,
logging, quarantine), so a rejected record's payload is already clean and no exception
can quote a name. The identifier is replaced by a keyed HMAC-SHA-256: the same citizen
gets the same `applicant_key` every night (repeat applicants can be counted) but the key
cannot be reversed or recomputed without `CDS_PII_KEY`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Any

# Field names that carry personal data wherever they appear (in the contract's `nguoi_nop`
# or in fields the portal may add later): matched as substrings of lower-cased names.
_PERSONAL_NAME_PARTS = (
    "nguoi_nop",
    "ho_ten",
    "dinh_danh",
    "dien_thoai",
    "email",
    "dia_chi",
    "cccd",
    "cmnd",
    "ngay_sinh",
    "phone",
)


def pseudonymise(key: bytes, value: str) -> str:
    """Hex HMAC-SHA-256 of `value` under `key` (64 lowercase hex characters)."""
    if not key:
        raise ValueError("the pseudonymisation key is empty (set CDS_PII_KEY)")
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=4096)
def is_personal_field(name: str) -> bool:
    """Whether a field name denotes personal data (applicant, id number, phone, address...).

    Cached: the same few field names come back on every record."""
    lowered = name.lower()
    return any(part in lowered for part in _PERSONAL_NAME_PARTS)


def drop_personal(value: Any) -> Any:
    """A copy of a JSON value with every personal field removed, at any depth."""
    if isinstance(value, dict):
        return {k: drop_personal(v) for k, v in value.items() if not is_personal_field(str(k))}
    if isinstance(value, list):
        return [drop_personal(v) for v in value]
    return value


def applicant_key(key: bytes, applicant: Any) -> str | None:
    """The pseudonym of `nguoi_nop.so_dinh_danh`; None when the identifier is absent."""
    if not isinstance(applicant, dict):
        return None
    ident = applicant.get("so_dinh_danh")
    if ident is None or isinstance(ident, bool | dict | list):
        return None
    text = str(ident).strip()
    return pseudonymise(key, text) if text else None


def scrub_dossier(item: dict[str, Any], key: bytes) -> dict[str, Any]:
    """A portal dossier without personal data: `nguoi_nop` becomes `applicant_key`.

    The applicant's name and phone number are dropped, and so is any other personal field
    (also one the portal adds later); nothing else changes.
    """
    scrubbed = drop_personal(item)
    scrubbed["applicant_key"] = applicant_key(key, item.get("nguoi_nop"))
    return scrubbed
