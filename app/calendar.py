"""Working-day calendar: holidays and make-up workdays are data, not code (pure)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

from app.workflow import N_


@dataclass(frozen=True)
class WorkingCalendar:
    """The official schedule as data.

    ``holidays`` are days off even on weekdays, ``workdays`` are make-up workdays (调休) on
    weekends, ``official_years`` are the years whose schedule has been entered. A day in any
    other year is counted Monday–Friday and marks the result provisional.
    """

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    official_years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls, holidays: Iterable[date], workdays: Iterable[date], official_years: Iterable[int]
    ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(workdays), frozenset(official_years))

    def is_official(self, day: date) -> bool:
        return day.year in self.official_years

    def is_workday(self, day: date) -> bool:
        """Say whether ``day`` is a working day (weekends off unless 调休, holidays off)."""
        if self.is_official(day):
            if day in self.workdays:
                return True
            if day in self.holidays:
                return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """Return the Nth working day after ``start`` and whether any year crossed lacks data.

        The start day itself is not counted (common administrative practice).
        """
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        provisional = not self.is_official(start) and days == 0
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if not self.is_official(day):
                provisional = True
            if self.is_workday(day):
                counted += 1
        return day, provisional

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days after ``start`` up to and including ``end`` (0 if ``end`` is not
        later): the weekdays between them by arithmetic, corrected by the official days that
        break the weekly rule (two binary searches; the sweep counts thousands of notices)."""
        if end <= start:
            return 0
        days, total = self._exceptions
        corrections = (
            total[bisect_right(days, end.toordinal())] - total[bisect_right(days, start.toordinal())]
        )
        return _weekdays_upto(end.toordinal()) - _weekdays_upto(start.toordinal()) + corrections

    @property
    def _exceptions(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return _exceptions(self.holidays, self.workdays, self.official_years)


@lru_cache(maxsize=256)  # every office's calendar is the national one and a few regional days
def _exceptions(
    holidays: frozenset[date], workdays: frozenset[date], official_years: frozenset[int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The official days that break the Monday–Friday rule (a make-up weekend day +1, a holiday
    on a weekday -1; a day listed as both is worked), as sorted day ordinals and the running sum
    of their corrections (``total[i]``: the sum over the first ``i`` days)."""
    corrections = {d.toordinal(): 1 for d in workdays if d.weekday() >= 5 and d.year in official_years}
    corrections.update(
        (d.toordinal(), -1) for d in holidays - workdays if d.weekday() < 5 and d.year in official_years
    )
    days = tuple(sorted(corrections))
    return days, (0, *accumulate(corrections[d] for d in days))


def _weekdays_upto(ordinal: int) -> int:
    """Monday–Friday days among the day ordinals 1..``ordinal`` (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


# --- regional holidays: the presets an administrator applies to a jurisdiction ---------------
#
# The State Council's schedule is national; an autonomous region keeps holidays of its own
# (《全国年节及纪念日放假办法》第四条: "少数民族习惯的节日，由少数民族聚居地区的地方人民政府，按照各该民族
# 习惯，规定放假日期"). Each preset below gives the days its rule yields for one year; the
# region's own notice of the year may still move them (调休), and the administrator then edits
# the stored days.


@dataclass(frozen=True)
class RegionalDay:
    """A day a preset adds to a jurisdiction's calendar."""

    day: date
    kind: str  # "holiday" or "workday"
    name: str  # the official name, stored as data like the State Council's day names


def _lunar(year: int, month: int, day: int) -> date:
    """The Gregorian date of a day of the Chinese lunar calendar (lunardate: the tables of
    1900–2099, pure Python)."""
    from lunardate import LunarDate

    return LunarDate(year, month, day).to_solar_date()


def _working_days_from(first: date, count: int, national: WorkingCalendar) -> list[date]:
    """The first ``count`` working days (of the national calendar) from ``first`` on."""
    found, day = [], first
    while len(found) < count:
        if national.is_workday(day):
            found.append(day)
        day += timedelta(days=1)
    return found


SANYUESAN = "壮族三月三"


def guangxi_sanyuesan(year: int, national: WorkingCalendar) -> list[RegionalDay]:
    """壮族三月三, Guangxi: two days off, the third and fourth days of the third lunar month
    (自治区人民政府, from 2014: "全区放假两天", 三月初三、初四). A day of it that falls on a
    weekend is not made up."""
    first = _lunar(year, 3, 3)
    return [RegionalDay(first + timedelta(days=i), "holiday", SANYUESAN) for i in range(2)]


KURBAN = "古尔邦节"
# The day the China Islamic Association announced where it differs from the Umm al-Qura
# calendar (2022: 10 July in China, 9 July in Umm al-Qura). Every other year of 2005–2025
# whose notice we hold agrees with Umm al-Qura (2005-01-21, 2016-09-11, 2025-06-06).
KURBAN_ANNOUNCED = {2022: date(2022, 7, 10)}


def kurban_day(year: int) -> date:
    """古尔邦节 (Eid al-Adha), 10 Dhu al-Hijjah: the announced day, else the Umm al-Qura
    calendar's (hijridate, the maintained successor of hijri-converter: 1924–2077)."""
    if year in KURBAN_ANNOUNCED:
        return KURBAN_ANNOUNCED[year]
    from hijridate import Gregorian, Hijri

    hijri_year = Gregorian(year, 7, 1).to_hijri().year
    for candidate in (hijri_year - 1, hijri_year, hijri_year + 1):
        day = Hijri(candidate, 12, 10).to_gregorian()
        if day.year == year:
            return date(day.year, day.month, day.day)
    raise LookupError(year)


def xinjiang_kurban(year: int, national: WorkingCalendar) -> list[RegionalDay]:
    """古尔邦节, Xinjiang: three days off from the day of the festival, a weekend in between
    made up by the next working days (新疆维吾尔自治区少数民族习惯节日放假办法, 自治区人民政府令
    第174号, as the notices apply it: 2025 "6月6日（周五）至10日（周二）放假，共5天"; 2022 "7月9日至
    13日放假调休")."""
    return [RegionalDay(d, "holiday", KURBAN) for d in _working_days_from(kurban_day(year), 3, national)]


LOSAR = "藏历新年"
# 藏历正月初一 by the Phugpa calendar of the 自治区藏医院天文历算研究所 (2023-02-21, 2025-02-28 and
# 2026-02-18 as it published them; the other years computed with the Phugpa engine of caltib
# 0.3.2, which gives those three and 2019–2022 right). No Tibetan calendar library is a runtime
# dependency: the table is extended as the institute publishes each year's almanac.
LOSAR_DAYS = {
    2023: date(2023, 2, 21),
    2024: date(2024, 2, 10),
    2025: date(2025, 2, 28),
    2026: date(2026, 2, 18),
    2027: date(2027, 2, 7),
    2028: date(2028, 2, 26),
    2029: date(2029, 2, 14),
    2030: date(2030, 3, 5),
}
# The arrangements the 拉萨市人民政府办公室 announced (the other cities follow Lhasa's), as the
# regional days they add to the State Council's schedule.
LOSAR_ANNOUNCED: dict[int, tuple[tuple[date, ...], tuple[date, ...]]] = {
    # "2023年2月20日至2月26日放假调休。2月18日（星期六）、2月19日（星期日）上班。"
    2023: (tuple(date(2023, 2, d) for d in range(20, 25)), (date(2023, 2, 18), date(2023, 2, 19))),
    # "2月27日至3月4日，共6天，其中放假4天、周末2天，不调休。"
    2025: ((date(2025, 2, 27), date(2025, 2, 28), date(2025, 3, 3), date(2025, 3, 4)), ()),
    # Spring Festival and Losar together: "2月15日至2月26日放假调休，2月14日、2月28日上班" — the
    # State Council's break ends on 23 February and already works those two Saturdays.
    2026: ((date(2026, 2, 24), date(2026, 2, 25), date(2026, 2, 26)), ()),
}


def tibet_losar(year: int, national: WorkingCalendar) -> list[RegionalDay]:
    """藏历新年, Tibet: seven days off (自治区人大常委会: "每年藏历新年放假7天"), from 藏历除夕, the
    day before 藏历正月初一, as Lhasa's notices place them; the days of those seven that are not
    off already become regional holidays. A year whose notice we hold uses the notice."""
    if year in LOSAR_ANNOUNCED:
        holidays, workdays = LOSAR_ANNOUNCED[year]
        return [RegionalDay(d, "holiday", LOSAR) for d in holidays] + [
            RegionalDay(d, "workday", LOSAR + "调休上班") for d in workdays
        ]
    if year not in LOSAR_DAYS:
        raise LookupError(year)
    eve = LOSAR_DAYS[year] - timedelta(days=1)
    week = [eve + timedelta(days=i) for i in range(7)]
    return [RegionalDay(d, "holiday", LOSAR) for d in week if national.is_workday(d)]


@dataclass(frozen=True)
class HolidayPreset:
    """A regional holiday an administrator applies to a jurisdiction, year by year."""

    code: str
    name: str  # the holiday's official name (data)
    label: str  # msgid: the preset as the screens name it
    days: Callable[[int, WorkingCalendar], list[RegionalDay]]
    years: range  # the years it can give


PRESETS: dict[str, HolidayPreset] = {
    p.code: p
    for p in (
        HolidayPreset(
            "guangxi-sanyuesan",
            SANYUESAN,
            N_("Guangxi: Zhuang Sanyuesan (3rd day of the 3rd lunar month, 2 days)"),
            guangxi_sanyuesan,
            range(1901, 2099),
        ),
        HolidayPreset(
            "xinjiang-kurban",
            KURBAN,
            N_("Xinjiang: Kurban (Eid al-Adha, 3 days)"),
            xinjiang_kurban,
            range(1925, 2077),
        ),
        HolidayPreset(
            "tibet-losar",
            LOSAR,
            N_("Tibet: Losar (Tibetan New Year, 7 days)"),
            tibet_losar,
            range(min(LOSAR_DAYS), max(LOSAR_DAYS) + 1),
        ),
    )
}


def preset_days(code: str, year: int, national: WorkingCalendar) -> list[RegionalDay]:
    """The days the preset ``code`` adds in ``year`` (KeyError: no such preset; LookupError:
    a year it cannot give)."""
    preset = PRESETS[code]
    if year not in preset.years:
        raise LookupError(year)
    return preset.days(year, national)
