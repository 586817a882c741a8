"""Jinja2 templates (``templates/{ja,en}/``) rendered from a notice's :class:`Content`.

Autoescaping is on for every ``.html`` template: device strings come from banners an attacker
controls. Plain-text templates get the same values, already reduced to plain characters by
``_compose``. Undefined names are errors, so a template cannot silently drop a part.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from iotscope.notify._compose import Content


def _autoescape(name: str | None) -> bool:
    return name is not None and ".html" in name


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("iotscope.notify", "templates"),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the package: no stat() per render
        cache_size=64,
    )


def render(name: str, content: Content, **extra: object) -> str:
    """Render ``{language}/{name}`` (or ``name`` itself when it has no language)."""
    env = environment()
    path = f"{content.language}/{name}" if "/" not in name and name != "email.html.j2" else name
    return env.get_template(path).render(content.context() | extra)


def text_body(content: Content) -> str:
    """The plain-text message: e-mail text part, letter, and the reference for the others."""
    return render("body.txt.j2", content).strip() + "\n"


def html_body(content: Content, *, link: bool = True) -> Markup:
    """The message as an HTML fragment (escaped), for the e-mail and the landing page."""
    return Markup(render("body.html.j2", content, link=link))


def html_email(content: Content) -> str:
    return render("email.html.j2", content, body=html_body(content)).strip() + "\n"


def sms_text(content: Content) -> str:
    return render("sms.j2", content).strip()


def channel_bodies(content: Content, channel: str) -> dict[str, str]:
    """What sending over ``channel`` renders, and nothing more: e-mail its text and HTML
    parts, a letter its text (the PDF prints it), an SMS its short text, a landing notice the
    page's HTML body (rendered again when the subscriber opens it)."""
    if channel == "email":
        return {"text": text_body(content), "html": html_email(content)}
    if channel == "letter":
        return {"text": text_body(content)}
    if channel == "sms":
        return {"sms": sms_text(content)}
    return {"html": str(html_body(content, link=False))}
