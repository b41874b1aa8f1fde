"""The case study as a formatted plain-text reference: APA 7th edition and Chicago author-date (17th).

Written here rather than with citeproc-py: only two styles of one item type are needed, and the
official CSL files are not shipped with it. Both follow the styles' rules for a web page whose author
is the organisation that publishes the site (APA 7 §9.8 and 10.16; Chicago 15.51): the site name is
not repeated, the date is the date of the last review, the citation is in English (the styles' own
language) whatever the interface language.
"""

from __future__ import annotations

import datetime as dt

from kb.citations import PUBLISHER

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
STYLES = {"apa": "APA 7", "chicago": "Chicago author-date"}


def _title(text: str) -> str:
    """The title with a full stop after it unless it already ends with punctuation."""
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else text + "."


def apa(practice: dict, url: str) -> str:
    """APA 7: Author. (Year, Month Day). Title. URL"""
    day = dt.date.fromisoformat(practice["last_reviewed"])
    return f"{PUBLISHER}. ({day.year}, {MONTHS[day.month - 1]} {day.day}). {_title(practice['title'])} {url}"


def chicago(practice: dict, url: str) -> str:
    """Chicago author-date: Author. Year. “Title.” Last modified Month Day, Year. URL."""
    day = dt.date.fromisoformat(practice["last_reviewed"])
    title = _title(practice["title"])
    return (f"{PUBLISHER}. {day.year}. “{title}” Last modified {MONTHS[day.month - 1]} {day.day}, {day.year}. "
            f"{url}.")


def formatted(practice: dict, url: str) -> list[dict]:
    """Both styles, as [{style, name, text}], for the practice page's Cite box."""
    return [{"style": "apa", "name": STYLES["apa"], "text": apa(practice, url)},
            {"style": "chicago", "name": STYLES["chicago"], "text": chicago(practice, url)}]
