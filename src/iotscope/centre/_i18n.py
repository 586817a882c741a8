"""The centre's user-interface strings in English and Japanese (view titles come from the
registry: :attr:`ViewSpec.title_en`, :attr:`ViewSpec.title_ja`).

What a view says in words (table and chart titles, notes, axis units, markers) is English in
the view, the JSON API and the CSV; a page in Japanese shows it through
:func:`iotscope.centre._ja.text`. A string made from data is built with :func:`say`, which
keeps the template and the values, so the page can fill the Japanese template with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Lang = Literal["en", "ja"]
LANGS: tuple[Lang, ...] = ("en", "ja")

#: key -> (English, Japanese)
_STRINGS: dict[str, tuple[str, str]] = {
    "app": ("iotscope analysis centre", "iotscope 分析センター"),
    "views": ("Views", "ビュー"),
    "no_views": ("No view is open to this role.", "このロールで開けるビューはありません。"),
    "signed_in_as": ("Signed in as", "ログイン中"),
    "login": ("Sign in", "ログイン"),
    "logout": ("Sign out", "ログアウト"),
    "token": ("API token", "APIトークン"),
    "token_help": (
        "Paste the token `iotscope token create` printed for you. It is kept in a cookie "
        "that scripts cannot read.",
        "`iotscope token create` が表示したトークンを貼り付けてください。"
        "スクリプトから読めないクッキーに保存されます。",
    ),
    "bad_token": ("This token is not valid.", "このトークンは無効です。"),
    "forbidden": ("Not allowed", "アクセス権がありません"),
    "forbidden_text": (
        "Your role may not open this page.",
        "このロールではこのページを開けません。",
    ),
    "not_found": ("Not found", "見つかりません"),
    "error": ("Error", "エラー"),
    "back": ("Back to the views", "ビュー一覧へ戻る"),
    "csv": ("CSV", "CSV"),
    "png": ("PNG", "PNG"),
    "rows_shown": (
        "First {shown} of {total} rows; the CSV has them all.",
        "全{total}行のうち先頭{shown}行を表示しています。CSVにはすべて含まれます。",
    ),
    "no_rows": ("No rows.", "行がありません。"),
    "charts_unavailable": (
        "Charts are unavailable: the browser libraries are not installed (make web-assets). "
        "The tables below hold every number.",
        "グラフは利用できません（ブラウザ用ライブラリ未導入: make web-assets）。"
        "数値はすべて下の表にあります。",
    ),
    "kind_unsupported": ("This chart kind is not drawn here:", "この種類のグラフは表示できません:"),
    "day": ("Day", "日"),
    "play": ("Play the days", "日ごとに再生"),
    "edges": ("edges", "エッジ"),
    "edges_capped": ("showing the first {shown}", "先頭{shown}件を表示"),
    "cumulative": ("cumulative share", "累積割合"),
    "target": ("target", "目標"),
    "interval": ("interval", "区間"),
    "language": ("日本語", "English"),
}


class Text(str):
    """An English string that remembers its ``template`` and ``values`` (made by :func:`say`);
    everywhere else it is the plain English string."""

    template: str
    values: Mapping[str, Any]
    ja: str | None  # the Japanese template when the data gives it (a KPI's name_ja)

    def __new__(cls, template: str, values: Mapping[str, Any], ja: str | None = None) -> Text:
        out = super().__new__(cls, template.format(**values))
        out.template, out.values, out.ja = template, dict(values), ja
        return out


def say(template: str, **values: Any) -> Text:
    """``template`` (``str.format`` fields) filled with ``values``, translatable as a whole:
    ``say("Round {round} (first finding {day}).", round=r, day=d)``."""
    return Text(template, values)


def both(en: str, ja: str) -> Text:
    """A text whose Japanese comes with it (names defined in both languages, as KPIs are)."""
    return Text(
        en.replace("{", "{{").replace("}", "}}"), {}, ja.replace("{", "{{").replace("}", "}}")
    )


def strings(lang: Lang) -> dict[str, str]:
    """Every UI string in ``lang``."""
    i = LANGS.index(lang)
    return {k: v[i] for k, v in _STRINGS.items()}


def pick_lang(query: str | None, accept_language: str | None) -> Lang:
    """``?lang=`` first, then the browser's first preference, else English."""
    for lang in LANGS:
        if query == lang:
            return lang
    first = (accept_language or "").split(",")[0].strip().lower()
    return "ja" if first.startswith("ja") else "en"
