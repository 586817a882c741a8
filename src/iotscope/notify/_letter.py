"""Printable letters: an A4 PDF with the Japanese font embedded (a subset of it), so it prints
the same on any printer and any viewer, with no font on the reader's side.

The font is a TrueType file from Debian (``fonts-ipaexfont-gothic``: IPAex Gothic, which also
covers Latin text, so English letters use it too).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from iotscope.errors import ConfigError
from iotscope.notify._compose import JST, Content
from iotscope.notify._render import text_body

FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)


def japanese_font() -> Path | None:
    """The first installed Japanese TrueType font of :data:`FONT_CANDIDATES`."""
    return next((p for p in FONT_CANDIDATES if p.is_file()), None)


def letter_pdf(
    content: Content, sender_lines: list[str], now: datetime, font: Path | None = None
) -> bytes:
    """The notice as a one- or two-page A4 letter. ``sender_lines``: the ISP's letterhead."""
    pdf = japanese_pdf(now, font)
    pdf.set_title(content.subject)
    pdf.set_author(content.isp_name)
    pdf.set_lang(content.language)
    _letter(pdf, content, sender_lines, now)
    return bytes(pdf.output())


def letters_pdf(
    contents: Sequence[tuple[Content, list[str]]], now: datetime, font: Path | None = None
) -> tuple[bytes, list[int]]:
    """Many letters in one PDF for the print service (the font is parsed and embedded once);
    returns the PDF and the first page (1-based) of each letter."""
    pdf = japanese_pdf(now, font)
    pdf.set_title("notices")
    starts = []
    for content, sender_lines in contents:
        starts.append(pdf.page + 1)
        _letter(pdf, content, sender_lines, now)
    return bytes(pdf.output()), starts


def japanese_pdf(
    now: datetime, font: Path | None, *, side: float = 22, top: float = 20, what: str = "letters"
) -> FPDF:
    """An A4 document with the Japanese font embedded as ``jp`` (``font``, or the system's),
    dated ``now``; margins ``side`` and ``top`` (also the bottom) in mm."""
    font = font or japanese_font()
    if font is None:
        raise ConfigError(f"no Japanese font for {what}: install fonts-ipaexfont-gothic")
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(side, top, side)
    pdf.set_auto_page_break(True, margin=top)
    pdf.set_creation_date(now)
    pdf.add_font("jp", "", str(font))
    return pdf


def _letter(pdf: FPDF, content: Content, sender_lines: list[str], now: datetime) -> None:
    lang = content.language
    pdf.add_page()
    _header(pdf, content, sender_lines, now)
    pdf.set_font("jp", size=14)
    _para(pdf, content.subject, 8, lang)
    pdf.ln(3)
    pdf.set_font("jp", size=10.5)
    for block in _letter_text(content).split("\n"):
        _para(pdf, block, 6, lang) if block.strip() else pdf.ln(3)


def _letter_text(content: Content) -> str:
    """The letter body is the e-mail's plain text without its first (addressee) line, which the
    letter prints in the address block instead."""
    lines = text_body(content).splitlines()
    return "\n".join(lines[2:] if lines and content.addressee else lines)


def _header(pdf: FPDF, content: Content, sender_lines: list[str], now: datetime) -> None:
    local = now.astimezone(JST)
    date = (
        f"{local.year}年{local.month}月{local.day}日"
        if content.language == "ja"
        else local.strftime("%d %B %Y")
    )
    pdf.set_font("jp", size=10)
    pdf.cell(0, 6, date, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("jp", size=11)
    for line in (content.postal or "").splitlines():
        _para(pdf, line, 6, content.language)
    if content.addressee:
        honorific = " 様" if content.language == "ja" else ""
        _para(pdf, content.addressee + honorific, 7, content.language)
    pdf.ln(4)
    pdf.set_font("jp", size=9.5)
    for line in sender_lines:
        pdf.cell(0, 5, line, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)


def _para(pdf: FPDF, text: str, height: float, lang: str) -> None:
    # Japanese has no spaces to break at: wrap it anywhere; English at spaces
    mode = WrapMode.CHAR if lang == "ja" else WrapMode.WORD
    pdf.multi_cell(0, height, text, wrapmode=mode, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
