"""The hall's words: one gettext catalogue, Simplified Chinese first, English on request.

The catalogue is ``hall_web/translations/<lang>/LC_MESSAGES/messages.po`` (msgids in
English, compiled to ``.mo`` by ``./hall i18n``). Flask-Babel picks the language per
request; templates call ``_()``, ``ngettext()`` and ``pgettext()``; the page scripts get
the msgids they use translated here (``script_words``, embedded in the page as today);
API errors are translated at the edge by their code (``hall_web.error_messages``).

Every catalogue string is a %-format string, as Jinja's newstyle gettext reads it:
``%(n)s`` for a value, ``%%`` for a percent sign, in templates and scripts alike.

Language: ``?lang=zh|en`` (remembered in the ``lang`` cookie), then that cookie, then
Chinese. The API looks at Accept-Language before the cookie: the page scripts send their
page's language there, so an error reads in the language of the page that shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import get_day_names
from babel.messages.extract import extract
from flask import Flask, Response, current_app, has_request_context, request, url_for
from flask_babel import Babel, force_locale, get_locale, get_translations, gettext

from hall_ops.config import WEEKDAYS
from hall_web.context import current_hall

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
TRANSLATIONS = Path(__file__).parent / "translations"
SCRIPT_KEYWORDS: dict[str, Any] = {"t": None, "pt": ((1, "c"), 2), "nt": (1, 2)}
"""How static/js/common.js spells gettext, pgettext and ngettext (pybabel's keyword specs)."""
COOKIE_SECONDS = 365 * 24 * 3600

ScriptMessage = tuple[str | None, str | tuple[str, ...]]


def init_i18n(app: Flask) -> None:
    """Flask-Babel with the hall's catalogue, the language cookie and the pages' words."""
    init_babel(app)
    app.extensions["hall_script_messages"] = script_messages(Path(app.static_folder or "") / "js")
    app.context_processor(_page_words)


def init_babel(app: Flask) -> None:
    """The catalogue, the language of each request, its cookie and the switch (any app of
    the hall-ops: a hall's, or a deployment's root)."""
    Babel(app, locale_selector=select_language, default_locale=DEFAULT_LANGUAGE,
          default_translation_directories=str(TRANSLATIONS))
    app.after_request(_remember_language)
    app.context_processor(_language_words)


def select_language() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    if request.path.startswith("/api/"):
        accepted = request.accept_languages.best_match(LANGUAGES)
        if accepted:
            return accepted
    cookie = request.cookies.get("lang")
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def other_language(lang: str) -> str:
    return LANGUAGES[1 - LANGUAGES.index(lang)]


def in_other_language(message: str) -> str:
    """A msgid in the language not shown: the call screen prints both, one small."""
    with force_locale(other_language(current_language())):
        return gettext(message)


def wait_text(minutes: float | None) -> str:
    """An estimate as people read it (the same rule as ``minutes()`` in common.js)."""
    if minutes is None:
        return gettext("no window open yet")
    return gettext("%(n)s min", n="< 1" if 0 < minutes < 1 else str(round(minutes)))


def script_messages(folder: Path) -> list[ScriptMessage]:
    """Every (context, msgid) the page scripts ask for, found as pybabel finds them."""
    found: dict[ScriptMessage, None] = {}
    for path in sorted(folder.glob("*.js")):
        with path.open("rb") as source:
            for _line, message, _comments, context in extract(
                "javascript", source, keywords=SCRIPT_KEYWORDS
            ):
                found[(context, message)] = None
    return list(found)


def script_words() -> dict[str, str | list[str]]:
    """The scripts' msgids in this request's language, keyed as common.js looks them up:
    ``msgid``, ``context\\x04msgid``, and a plural's singular to [form for 1, form for 2]."""
    translations = get_translations()
    words: dict[str, str | list[str]] = {}
    for context, message in current_app.extensions["hall_script_messages"]:
        if isinstance(message, tuple):
            singular, plural = message
            words[singular] = [translations.ngettext(singular, plural, n) for n in (1, 2)]
        elif context:
            words[f"{context}\x04{message}"] = translations.pgettext(context, message)
        else:
            words[message] = translations.gettext(message)
    return words


def _language_words() -> dict[str, Any]:
    """The language, its switch and bilingual names."""
    lang = current_language()
    other = other_language(lang)
    return {
        "lang": lang,
        "other_lang": other,
        "other_language_name": Locale.parse(other).get_display_name(other),
        "lang_url": _lang_url(other),
        "name": lambda item: item["name_en" if lang == "en" else "name_zh"],
    }


def _page_words() -> dict[str, Any]:
    """What every hall page needs besides ``_()`` and the language: the hall and its days."""
    lang = current_language()
    hall = current_hall().config
    days = get_day_names("abbreviated", locale=lang)
    return {
        "_other": in_other_language,
        "day_name": lambda day: days[WEEKDAYS.index(day)],
        "wait_text": wait_text,
        "script_words": script_words,
        "hall_name": hall.name_zh if lang == "zh" else hall.name_en,
        "hall_timezone": hall.timezone.key,
    }


def _lang_url(lang: str) -> str:
    """This page in the other language, keeping its query (a zone screen stays that zone)."""
    if request.endpoint is None:
        return "?lang=" + lang
    return url_for(request.endpoint, **{**request.args.to_dict(), **(request.view_args or {}),
                                        "lang": lang})


def _remember_language(response: Response) -> Response:
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        response.set_cookie("lang", lang, max_age=COOKIE_SECONDS, samesite="Lax")
    return response
