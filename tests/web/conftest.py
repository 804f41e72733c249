"""The dashboard's tests run against the same app, time-skipping Temporal and
embedded PostgreSQL as the API tests, sharing their fixtures."""

from tests.api.conftest import api, auth, settings

__all__ = ["api", "auth", "settings"]
