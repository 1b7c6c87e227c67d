"""Civil-date arithmetic on numpy `datetime64[D]` arrays, as the spec defines it: a 29 February
birthday or anniversary falls on 28 February in common years."""

from __future__ import annotations

import datetime as dt

import numpy as np


def ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def is_leap(y: np.ndarray) -> np.ndarray:
    return (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))


def _key(y: np.ndarray | int, m: np.ndarray | int, d: np.ndarray | int) -> np.ndarray:
    return np.asarray(y) * 10_000 + np.asarray(m) * 100 + np.asarray(d)


def anniversary_key(dates: np.ndarray, years: int | np.ndarray) -> np.ndarray:
    """`dates` plus `years` as a sortable YYYYMMDD integer; 29 Feb rolls to 28 Feb."""
    y, m, d = ymd(dates)
    y2 = y + years
    d2 = np.where((m == 2) & (d == 29) & ~is_leap(y2), 28, d)
    return _key(y2, m, d2)


def day_key(day: dt.date) -> int:
    return int(_key(day.year, day.month, day.day))


def age_on(births: np.ndarray, on: dt.date) -> np.ndarray:
    """Whole years on `on`."""
    y, _, _ = ymd(births)
    age = on.year - y
    return age - (anniversary_key(births, age) > day_key(on))


def within_years(dates: np.ndarray, years: int, on: dt.date) -> np.ndarray:
    """`date <= on <= date + years`."""
    start_ok = dates <= np.datetime64(on, "D")
    return start_ok & (day_key(on) <= anniversary_key(dates, years))
