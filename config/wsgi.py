"""WSGI entry point, for serving the admin (gunicorn config.wsgi, see docs/OPERATIONS.md)."""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# The fallback key is in the repository: with it anyone could forge admin sessions.
if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY and not settings.DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set: refusing to serve the admin with the public development key"
    )
