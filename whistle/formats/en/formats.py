"""English dates in an order no reader can misread: 2026-12-03 in tables, 3 Dec 2026 in text.

Django's own English formats are the US ones (12/03/2026, "Dec. 3, 2026"), which a reader
elsewhere takes for 12 March. Times are on the 24-hour clock, as on the Chinese pages.
"""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2026-12-03'
    "%d %b %Y",  # '3 Dec 2026'
    "%d %B %Y",  # '3 December 2026'
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",  # '2026-12-03 14:30:59'
    "%Y-%m-%d %H:%M:%S.%f",  # '2026-12-03 14:30:59.000200'
    "%Y-%m-%d %H:%M",  # '2026-12-03 14:30'
    "%Y-%m-%dT%H:%M",  # '2026-12-03T14:30' (<input type="datetime-local">)
    "%Y-%m-%d",  # '2026-12-03'
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
