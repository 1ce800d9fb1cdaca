"""A memorial's words: partial dates, a one-line epitaph, and how each language writes the
dates and frames the name."""
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from memorials.dates import PartialDate, life_span
from memorials.models import Memorial
from memorials.services import memorial_create
from tests.factories import user_make

pytestmark = pytest.mark.django_db


def test_old_records_may_give_a_year_alone_or_a_year_and_month():
    owner = user_make()
    memorial = memorial_create(owner=owner, name="김순자", birth_year=1931, death_year=2026, death_month=11)
    assert (memorial.born, memorial.died) == (PartialDate(1931), PartialDate(2026, 11))


@pytest.mark.parametrize(
    "dates, field",
    [
        ({"birth_month": 3}, "birth_year"),  # a month without its year
        ({"birth_year": 1942, "birth_day": 5}, "birth_day"),  # a day without its month
        ({"death_year": 2025, "death_month": 2, "death_day": 30}, "death_day"),  # no such day
        ({"birth_year": 1950, "death_year": 1949}, "death_year"),  # died before being born
    ],
)
def test_impossible_dates_are_refused(dates, field):
    with pytest.raises(ValidationError) as raised:
        memorial_create(owner=user_make(), name="Lee", **dates)
    assert field in raised.value.message_dict
    assert not Memorial.objects.exists()


def test_a_death_in_the_same_year_as_a_birth_with_unknown_months_is_allowed():
    memorial_create(owner=user_make(), name="Baby", birth_year=1950, birth_month=6, death_year=1950)


@pytest.mark.parametrize("epitaph", ["Loved.\nMissed.", "x" * 201, "tab\there"])
def test_the_epitaph_is_one_short_line(epitaph):
    with pytest.raises(ValidationError) as raised:
        memorial_create(owner=user_make(), name="Lee", epitaph=epitaph)
    assert "epitaph" in raised.value.message_dict


def test_korean_dates_read_as_korean_families_write_them():
    with translation.override("ko"):
        assert life_span(PartialDate(1942, 3, 5), PartialDate(2026, 11, 20)) == "1942년 3월 5일 – 2026년 11월 20일"
        assert PartialDate(1942).format() == "1942년"
        assert PartialDate(1942, 3).format() == "1942년 3월"


def test_english_dates_put_the_day_first_and_the_month_in_full():
    with translation.override("en"):
        assert life_span(PartialDate(1942, 3, 5), PartialDate(2026, 11, 20)) == "5 March 1942 – 20 November 2026"
        assert PartialDate(1942).format() == "1942"
        assert PartialDate(1942, 3).format() == "March 1942"
        assert life_span(None, PartialDate(2026)) == "Died 2026"


def test_korean_frames_the_name_as_the_late_with_respect_and_english_shows_it_plain():
    memorial = Memorial(name="홍길동")
    with translation.override("ko"):
        assert memorial.honoured_name == "고(故) 홍길동 님"
        assert Memorial(name="故 홍길동").honoured_name == "故 홍길동"  # written by the family already
    with translation.override("en"):
        assert memorial.honoured_name == "홍길동"
