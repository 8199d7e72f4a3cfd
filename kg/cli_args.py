"""What the ``kg`` sub-command modules share: handler types and argument types.

Each argument type raises :class:`argparse.ArgumentTypeError`, which argparse turns
into a usage error (exit 2) naming the option.
"""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Callable

Handler = Callable[[argparse.Namespace], int]
AddCommand = Callable[[str, Handler, str, str], argparse.ArgumentParser]


def at_least_one(text: str) -> int:
    """A whole number of at least 1.

    >>> at_least_one("5")
    5
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _seconds(text: str, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise argparse.ArgumentTypeError(
            f"{text!r} must not be negative" if allow_zero
            else f"{text!r} must be more than 0 seconds")
    return value


def seconds(text: str) -> float:
    """A number of seconds, 0 or more (a pause between requests)."""
    return _seconds(text, allow_zero=True)


def positive_seconds(text: str) -> float:
    """A number of seconds above 0 (a timeout)."""
    return _seconds(text, allow_zero=False)


def iso_date(text: str) -> datetime.date:
    """A calendar date written YYYY-MM-DD.

    >>> iso_date("1945-07-11")
    datetime.date(1945, 7, 11)
    """
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write YYYY-MM-DD, e.g. 1945-07-11") from None
