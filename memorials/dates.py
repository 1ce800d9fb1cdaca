"""Dates of birth and death as old records give them: a year, a year and a month, or a whole
date; and how each language writes them on a memorial page."""
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

# Per language: how a whole date, a year and month, and a year alone are written. Korean
# families write "1942년 3월 5일" (Django's own Korean DATE_FORMAT and YEAR_MONTH_FORMAT); an
# English memorial card reads "5 March 1942", day first and the month in full, which no
# English locale of Django gives ("March 5, 1942", "Nov. 20"), so it is spelled out here.
FORMATS = {
    "ko": ("DATE_FORMAT", "YEAR_MONTH_FORMAT", "Y년"),
    "en": ("j F Y", "F Y", "Y"),
}


@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def of(cls, year, month=None, day=None) -> "PartialDate | None":
        return cls(year, month, day) if year else None

    def check(self) -> None:
        """A month only with its year and a day only with its month, and a day that exists."""
        if self.day and not self.month:
            raise ValidationError(_("Give the month of that day, or leave the day out."), code="day_without_month")
        try:
            datetime.date(self.year, self.month or 1, self.day or 1)
        except ValueError:
            raise ValidationError(_("There is no such date."), code="no_such_date") from None

    def earliest(self) -> datetime.date:
        return datetime.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> datetime.date:
        if self.day:
            return self.earliest()
        if self.month:
            following = datetime.date(self.year + self.month // 12, self.month % 12 + 1, 1)
            return following - datetime.timedelta(days=1)
        return datetime.date(self.year, 12, 31)

    def format(self) -> str:
        """As the active language writes it, with only the parts that are known."""
        whole, year_month, year_only = FORMATS.get((get_language() or "en").split("-")[0], FORMATS["en"])
        if self.day:
            return date_format(self.earliest(), whole)
        if self.month:
            return date_format(self.earliest(), year_month)
        return date_format(self.earliest(), year_only)


def life_span(born: PartialDate | None, died: PartialDate | None) -> str:
    """"1942년 3월 5일 – 2026년 11월 20일", "5 March 1942 – 20 November 2026", or one end alone."""
    if born and died:
        return f"{born.format()} – {died.format()}"
    if born:
        return gettext("Born %(date)s") % {"date": born.format()}
    if died:
        return gettext("Died %(date)s") % {"date": died.format()}
    return ""
