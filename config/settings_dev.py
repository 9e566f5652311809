"""The settings the demo, the tests and the benchmarks use: production's (config.settings) and the
fake providers' app, so `manage.py znet_sandbox` (and its apstore / internal kin) exist there and
never ship in production's command list."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]
