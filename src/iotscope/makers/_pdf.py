"""A manufacturer's report as an A4 PDF, in English or Japanese, with the Japanese font
embedded (a subset of IPAex Gothic, found as ``iotscope.notify`` finds it for letters), so it
reads the same on any viewer. The numbers are those of :class:`VendorReport`, the same the
``maker`` view serves.

Model and version strings come from banners an attacker controls: they are printed as text
only, control characters removed and length capped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from iotscope.errors import ConfigError
from iotscope.makers._report import VendorReport
from iotscope.makers._tally import Tally
from iotscope.notify._letter import japanese_pdf

Lang = Literal["en", "ja"]
HEADINGS = FontFace(emphasis="", fill_color=(225, 230, 238))  # no bold: one font face
MAX_CVE_ROWS = 60
WIDE = {"model": 1.8, "version": 2.6, "cve": 2.0, "registration": 1.8}  # relative widths
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

TEXT: dict[str, dict[Lang, str]] = {
    "title": {
        "en": "Device security in the field: {vendor}",
        "ja": "{vendor} 製品の稼働状況と脆弱性",
    },
    "round": {
        "en": "Survey round {round} (first finding {date}); report made {now}.",
        "ja": "調査回 {round}（開始 {date}）、作成日 {now}",
    },
    "summary": {"en": "Summary", "ja": "概要"},
    "models": {"en": "Models", "ja": "機種別"},
    "firmware": {"en": "Firmware versions", "ja": "ファームウェア別"},
    "cves": {
        "en": "Known vulnerabilities (CVE) per firmware",
        "ja": "ファームウェア別の既知の脆弱性（CVE）",
    },
    "trend": {"en": "Trend over survey rounds", "ja": "調査回ごとの推移"},
    "labels": {"en": "JC-STAR registrations", "ja": "JC-STAR 登録"},
    "none": {"en": "None.", "ja": "なし"},
    "defs": {
        "en": "Devices: addresses where the survey identified this vendor, in one round. Weak: "
        "a service accepted a default ID/password or needed none. Vulnerable: a CVE applies to "
        "the identified firmware (inferred from the version, or verified by a safe check); KEV: "
        "listed in CISA's Known Exploited Vulnerabilities. Infected: the address was seen as a "
        "scanning bot by the darknet telescope during the round. Not latest: older than the "
        "current release in the vendor's release table.",
        "ja": "台数：当該調査回でこのメーカーと識別された機器のアドレス数。"
        "弱いID/パスワード：既定のID/パスワードでログインできた、または認証がなかった機器。脆弱：識別したファームウェアに"
        "CVE が該当（版数からの推定、または安全な検査で確認）。KEV：CISA の既知の悪用された脆弱性"
        "カタログに掲載。感染：当該調査回の期間にダークネットでボットの探索活動として観測。"
        "最新でない：メーカーの現行リリースより古い。",
    },
}
EVIDENCE: dict[str, dict[Lang, str]] = {
    "verified": {"en": "verified", "ja": "検査で確認"},
    "inferred": {"en": "inferred", "ja": "版数から推定"},
}
HEAD: dict[str, dict[Lang, str]] = {
    "model": {"en": "Model", "ja": "機種"},
    "version": {"en": "Version", "ja": "版"},
    "devices": {"en": "Devices", "ja": "台数"},
    "weak": {"en": "Weak", "ja": "弱いID/PW"},
    "vulnerable": {"en": "Vulnerable", "ja": "脆弱"},
    "kev": {"en": "KEV", "ja": "KEV"},
    "infected": {"en": "Infected", "ja": "感染"},
    "outdated": {"en": "Not latest", "ja": "最新でない"},
    "cve": {"en": "CVE", "ja": "CVE"},
    "evidence": {"en": "Evidence", "ja": "根拠"},
    "cvss": {"en": "CVSS", "ja": "CVSS"},
    "round": {"en": "Round", "ja": "調査回"},
    "date": {"en": "Date", "ja": "日付"},
    "registration": {"en": "Registration", "ja": "登録番号"},
    "level": {"en": "Level", "ja": "レベル"},
    "expires": {"en": "Expires", "ja": "有効期限"},
    "share": {"en": "Share of all infections", "ja": "全感染に占める割合"},
}


def _clean(text: object, limit: int = 80) -> str:
    s = "" if text is None else str(text)
    return _CONTROL.sub("", s)[:limit]


def _pct(k: int, n: int) -> str:
    return f"{k} ({100 * k / n:.1f} %)" if n else str(k)


def _bool(x: bool | None, lang: Lang) -> str:
    if x is None:
        return "-"
    return ("yes" if x else "no") if lang == "en" else ("はい" if x else "いいえ")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("jp", size=12)
    pdf.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("jp", size=8.5)


def _para(pdf: FPDF, text: str, lang: Lang, height: float = 5) -> None:
    mode = WrapMode.CHAR if lang == "ja" else WrapMode.WORD
    pdf.multi_cell(0, height, text, wrapmode=mode, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(pdf: FPDF, heads: Sequence[str], rows: Sequence[Sequence[str]], lang: Lang) -> None:
    if not rows:
        _para(pdf, TEXT["none"][lang], lang)
        return
    widths = tuple(WIDE.get(h, 1.0) for h in heads)
    with pdf.table(
        headings_style=HEADINGS,
        line_height=5,
        text_align="LEFT",
        wrapmode=WrapMode.CHAR,
        col_widths=widths,
    ) as t:
        head = t.row()
        for h in heads:
            head.cell(HEAD[h][lang])
        for r in rows:
            row = t.row()
            for cell in r:
                row.cell(cell)


def _counts(t: Tally) -> list[str]:
    return [
        str(t.devices),
        _pct(t.weak, t.devices),
        _pct(t.vulnerable, t.devices),
        str(t.kev),
        _pct(t.infected, t.devices),
    ]


def _summary(pdf: FPDF, rep: VendorReport, lang: Lang) -> None:
    _heading(pdf, TEXT["summary"][lang])
    share = "-" if rep.share_of_all is None else f"{100 * rep.share_of_all:.1f} %"
    _table(
        pdf,
        ("devices", "weak", "vulnerable", "kev", "infected", "share"),
        [[*_counts(rep.totals), share]],
        lang,
    )


def _sections(pdf: FPDF, rep: VendorReport, lang: Lang) -> None:
    _heading(pdf, TEXT["models"][lang])
    models = sorted(rep.models, key=lambda t: (-t.infected, -t.devices, t.key))
    _table(
        pdf,
        ("model", "devices", "weak", "vulnerable", "kev", "infected"),
        [[_clean(t.key[0]), *_counts(t)] for t in models],
        lang,
    )
    _heading(pdf, TEXT["firmware"][lang])
    fw = sorted(rep.firmware, key=lambda f: (-f.tally.infected, f.tally.key))
    _table(
        pdf,
        ("model", "version", "devices", "weak", "vulnerable", "kev", "infected", "outdated"),
        [
            [
                _clean(f.tally.key[0]),
                _clean(f.tally.key[1]),
                *_counts(f.tally),
                _bool(f.outdated, lang),
            ]
            for f in fw
        ],
        lang,
    )
    _heading(pdf, TEXT["cves"][lang])
    _table(
        pdf,
        ("model", "version", "cve", "devices", "evidence", "kev", "cvss"),
        [
            [
                _clean(c.model),
                _clean(c.version),
                c.cve,
                str(c.devices),
                EVIDENCE.get(c.evidence, {}).get(lang, c.evidence),
                _bool(c.kev, lang),
                "-" if c.cvss is None else f"{c.cvss:.1f}",
            ]
            for c in rep.cves[:MAX_CVE_ROWS]
        ],
        lang,
    )
    _heading(pdf, TEXT["trend"][lang])
    _table(
        pdf,
        ("round", "date", "devices", "weak", "vulnerable", "kev", "infected"),
        [[_clean(r.survey_id), r.start.date().isoformat(), *_counts(t)] for r, t in rep.trend],
        lang,
    )
    _heading(pdf, TEXT["labels"][lang])
    _table(
        pdf,
        ("registration", "model", "level", "date", "expires"),
        [
            [
                _clean(x.registration),
                _clean(x.model),
                f"★{x.level}",
                x.registered.isoformat(),
                x.expires.isoformat() if x.expires else "-",
            ]
            for x in rep.labels
        ],
        lang,
    )


def report_pdf(rep: VendorReport, lang: Lang, now: datetime, font: Path | None = None) -> bytes:
    """The report as PDF bytes (``lang``: ``en`` or ``ja``)."""
    if lang not in ("en", "ja"):
        raise ConfigError("report language must be en or ja", lang=lang)
    pdf = japanese_pdf(now, font, side=15, top=15, what="the report")
    vendor = _clean(rep.vendor)
    pdf.set_title(TEXT["title"][lang].format(vendor=vendor))
    pdf.set_lang(lang)
    pdf.add_page()
    pdf.set_font("jp", size=15)
    _para(pdf, TEXT["title"][lang].format(vendor=vendor), lang, 8)
    pdf.set_font("jp", size=9)
    if rep.round is not None:
        _para(
            pdf,
            TEXT["round"][lang].format(
                round=_clean(rep.round.survey_id),
                date=rep.round.start.date().isoformat(),
                now=now.date().isoformat(),
            ),
            lang,
        )
    _summary(pdf, rep, lang)
    _sections(pdf, rep, lang)
    pdf.ln(3)
    pdf.set_font("jp", size=8)
    _para(pdf, TEXT["defs"][lang], lang, 4.2)
    return bytes(pdf.output())
