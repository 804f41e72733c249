"""While the app runs, what its startup built is frozen out of the garbage collector's
full collections (they then stay short under load); once it stops, it is collectable again."""

import gc

from sqlalchemy.ext.asyncio import AsyncEngine

from appraisal.app import create_app
from appraisal.core.settings import Settings


async def test_startup_objects_are_frozen_while_the_app_runs(settings: Settings, engine: AsyncEngine) -> None:
    app = create_app(settings, engine=engine)
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
