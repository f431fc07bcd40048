"""Pseudonymisation and time conversion shared by the connectors."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sources.pii import applicant_key, drop_personal, pseudonymise, scrub_dossier
from sources.timeutil import format_timestamp, parse_date, parse_timestamp, to_wire

KEY = b"k"


def test_pseudonymise_is_keyed_hmac_sha256() -> None:
    expected = hmac.new(KEY, b"001203004567", hashlib.sha256).hexdigest()
    assert pseudonymise(KEY, "001203004567") == expected
    assert pseudonymise(b"other", "001203004567") != expected
    with pytest.raises(ValueError, match="CDS_PII_KEY"):
        pseudonymise(b"", "x")


def test_scrub_dossier_keeps_only_the_pseudonym() -> None:
    item = {
        "ma_ho_so": "H1",
        "nguoi_nop": {
            "ho_ten": "Lò Văn A",
            "so_dinh_danh": " 001203004567 ",
            "so_dien_thoai": "09",
        },
        "so_dien_thoai_lien_he": "0912",
        "ghi_chu": {"email": "a@b.vn", "kenh": "web"},
    }
    scrubbed = scrub_dossier(item, KEY)
    assert scrubbed == {
        "ma_ho_so": "H1",
        "ghi_chu": {"kenh": "web"},
        "applicant_key": pseudonymise(KEY, "001203004567"),
    }
    assert "nguoi_nop" in item  # the input is not modified
    assert applicant_key(KEY, {"ho_ten": "x"}) is None
    assert applicant_key(KEY, None) is None
    assert applicant_key(KEY, {"so_dinh_danh": ""}) is None
    assert drop_personal([{"ho_ten": "x", "a": 1}]) == [{"a": 1}]


def test_timestamps_become_naive_vietnam_time() -> None:
    assert parse_timestamp("2024-05-01T01:30:00Z") == datetime(2024, 5, 1, 8, 30)
    assert parse_timestamp("2024-05-01T08:30:00+07:00") == datetime(2024, 5, 1, 8, 30)
    assert parse_timestamp("2024-05-01T03:30:00+02:00") == datetime(2024, 5, 1, 8, 30)
    assert parse_timestamp("2024-05-01 08:30:00.250000") == datetime(2024, 5, 1, 8, 30, 0, 250000)
    aware = datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
    assert parse_timestamp(aware) == datetime(2024, 5, 1, 8, 30)
    for bad in ("31/02/2024", "2024-02-30T00:00:00", "yesterday"):
        with pytest.raises(ValueError):
            parse_timestamp(bad)
    with pytest.raises(TypeError):
        parse_timestamp(1714552200)
    assert format_timestamp(datetime(2024, 5, 1, 8, 30)) == "2024-05-01T08:30:00"
    assert to_wire(datetime(2024, 5, 1, 8, 30)) == "2024-05-01T08:30:00+07:00"


def test_dates() -> None:
    assert parse_date("2024-05-01") == date(2024, 5, 1)
    assert parse_date(date(2024, 5, 1)) == date(2024, 5, 1)
    assert parse_date("2024-05-01 00:00:00") == date(2024, 5, 1)
    late = datetime(2024, 4, 30, 17, 0, tzinfo=timezone(timedelta(hours=0)))
    assert parse_date(late) == date(2024, 5, 1)  # midnight in Vietnam
    for bad in ("01/05/2024", "2024-05-01 08:00:00", "2024-13-01"):
        with pytest.raises(ValueError):
            parse_date(bad)
