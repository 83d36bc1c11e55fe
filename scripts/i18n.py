"""The one translation catalogue: extract the msgids, update the .po files, compile the .mo.

    ./hall i18n            extract, update and compile (run it after changing any words)
    ./hall i18n compile    compile the .po files only (after translating)

Sources are listed in ``babel.cfg``; the catalogue is ``hall_web/translations``. Updating
never guesses (no fuzzy matching) and drops msgids no source uses any more, so a new or
changed word shows up untranslated, and ``tests/test_i18n.py`` fails until a Chinese
translation is written in ``hall_web/translations/zh/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "hall_web" / "translations"
LANGUAGES = ("zh", "en")
KEYWORDS = (
    "t", "pt:1c,2", "nt:1,2",  # static/js/common.js
    "_other",                   # the call screen's second language (hall_web/i18n.py)
    "error_msgid:1c,2",         # API errors by code (hall_web/error_messages.py)
)


def pybabel(*args: str | Path, quiet: bool = True) -> None:
    status = CommandLineInterface().run(["pybabel", *(["-q"] if quiet else []), *map(str, args)])
    if status:
        raise SystemExit(status)


def extract(pot: Path) -> None:
    """Every msgid of the sources into ``pot`` (what the tests compare the catalogue with)."""
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    with contextlib.chdir(ROOT):  # locations relative to the repository
        pybabel("extract", "-F", "babel.cfg", *keywords, "--project", "hall-ops",
                "--copyright-holder", "hall-ops", "--no-wrap", "-o", pot, ".")


def update(pot: Path) -> None:
    for lang in LANGUAGES:
        if not (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").exists():
            pybabel("init", "-i", pot, "-d", TRANSLATIONS, "-l", lang, "--no-wrap")
    # The .po (and so the .mo) changes only when words or their places do, not by the day.
    pybabel("update", "-i", pot, "-d", TRANSLATIONS, "--no-fuzzy-matching",
            "--ignore-obsolete", "--ignore-pot-creation-date", "--no-wrap")


def compile_catalogue() -> None:
    pybabel("compile", "-d", TRANSLATIONS, "--statistics", quiet=False)  # how much is translated


def main(argv: list[str]) -> None:
    if argv == ["compile"]:
        compile_catalogue()
        return
    if argv:
        raise SystemExit("usage: ./hall i18n [compile]")
    with tempfile.TemporaryDirectory() as work:
        pot = Path(work) / "messages.pot"
        extract(pot)
        update(pot)
    compile_catalogue()


if __name__ == "__main__":
    main(sys.argv[1:])
