"""The dashboard's tests run against the same app, time-skipping Temporal and
embedded PostgreSQL as the API tests, sharing their fixtures; the browser tests add a
served app and headless Chromium (browsing.py)."""

from tests.api.conftest import api, auth, settings
from tests.web.browsing import browser, served

__all__ = ["api", "auth", "browser", "served", "settings"]
