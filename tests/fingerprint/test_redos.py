"""No shipped rule backtracks badly on hostile banners (ReDoS): every search stays near linear.

Banners are attacker-controlled and identify() reads up to 64 KiB of them. For each shipped
fingerprint, long runs of separators (CR LF, spaces, digits, colons...) are fed after each
literal word of its own pattern -- the shape that makes adjacent quantifiers such as
``\\s*[\\r\\n]+\\s*`` explode -- and one search must finish well within a time budget a
quadratic pattern cannot meet at this size (CPU time, so a busy machine does not fail it).
"""

from __future__ import annotations

import re
import time

import pytest

from iotscope.fingerprint._engine import RULES_DIR
from iotscope.fingerprint._recog import Fingerprint, load_recog

FILLERS = ("\r\n", " ", "\t", "\n", ",", ":", "-", "a", "0", " a", "\r", "A")
REPEAT = 4000
BUDGET_S = 0.15  # linear patterns take about 1 ms here; the quadratic ones took > 1 s

FINGERPRINTS = [
    pytest.param(fp, id=f"{path.name}#{i}")
    for path in sorted(RULES_DIR.glob("*.xml"))
    for i, fp in enumerate(load_recog(path).fingerprints)
]


def _heads(pattern: str) -> list[str]:
    return ["", *re.findall(r"[A-Za-z][A-Za-z0-9 .:@/_-]{2,}", pattern)[:3]]


@pytest.mark.parametrize("fp", FINGERPRINTS)
def test_search_time_stays_linear_on_hostile_banners(fp: Fingerprint) -> None:
    assert fp.regex is not None
    for head in _heads(fp.pattern):
        for filler in FILLERS:
            text = head + filler * REPEAT + "\x00"
            start = time.process_time()
            fp.regex.search(text)
            spent = time.process_time() - start
            assert spent < BUDGET_S, (fp.label, head, filler, spent)


def test_the_guard_catches_a_quadratic_pattern() -> None:
    bad = re.compile(r"\A\s*Login authentication\s*[\r\n]+\s*Username:")
    start = time.process_time()
    bad.search("Login authentication" + "\r\n" * 600 + "\x00")
    assert time.process_time() - start > 0.01  # the shape the test above looks for
