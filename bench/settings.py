"""Settings of the intake benchmark only: Whistle's own settings plus the ceiling app.

The ceiling endpoint (bench.ceiling) inserts one row into a one-table model behind the same
middleware, authentication and permission as the whistle API, so that the ratio of whistles/s
to its requests/s measures Whistle's own work. It never ships with the served application:
whistle.settings and whistle.urls do not know it (tests/test_bench_isolation.py).
"""

from whistle.settings import *  # noqa: F403
from whistle.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.ceiling"]
ROOT_URLCONF = "bench.urls"
