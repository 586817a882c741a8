"""Vendor and model keys: the spellings one maker goes by match; different makers do not."""

from __future__ import annotations

import pytest

from iotscope.makers import model_key, vendor_key


@pytest.mark.parametrize(
    "spelling", ["TP-Link", "TP-LINK Co., Ltd.", "tp link", "ＴＰ－Ｌｉｎｋ", "TP-Link Inc."]
)
def test_spellings_of_one_vendor_share_a_key(spelling: str) -> None:
    assert vendor_key(spelling) == "tplink"


def test_distinct_vendors_and_edge_cases() -> None:
    assert vendor_key("Acme") != vendor_key("Acme Networks")
    assert vendor_key("株式会社バッファロー") == vendor_key("バッファロー")
    assert vendor_key("Corporation") == "corporation"  # nothing but a legal form: kept
    assert vendor_key(None) == vendor_key("") == ""
    assert model_key("WR-9500 N") == model_key("wr9500n") and model_key(None) == ""
