"""`appraisal dev | worker | api | migrate | seed | token`."""

import argparse
import asyncio
import signal
import sys
from datetime import timedelta

from appraisal.settings import get_settings


def _worker() -> int:
    from appraisal.worker import run_worker

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_worker(get_settings(), stop)

    asyncio.run(main())
    return 0


def _api() -> int:
    import uvicorn

    from appraisal.api.app import create_app

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
    )
    return 0


def _migrate() -> int:
    from appraisal.db.migrate import upgrade

    upgrade(get_settings().resolved_database_url())
    return 0


def _seed() -> int:
    from appraisal.db.engine import create_engine, session_factory
    from appraisal.seed import seed_demo

    async def main() -> None:
        engine = create_engine(get_settings())
        await seed_demo(session_factory(engine))
        await engine.dispose()

    asyncio.run(main())
    return 0


def _token(args: argparse.Namespace) -> int:
    from appraisal.api.auth import issue_token
    from appraisal.domain.roles import Actor, Role

    actor = Actor(Role(args.role).value, args.organisation, args.subject)
    print(issue_token(get_settings(), actor, ttl=timedelta(hours=args.hours)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="appraisal", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the whole product on embedded defaults")
    commands.add_parser("worker", help="run the Temporal worker")
    commands.add_parser("api", help="run the REST API (uvicorn)")
    commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    commands.add_parser("seed", help="load the demo registry")
    token = commands.add_parser("token", help="issue a bearer token")
    token.add_argument(
        "--role",
        required=True,
        choices=["court", "institution", "institution_head", "appraiser", "supervisor"],
    )
    token.add_argument(
        "--organisation",
        required=True,
        help="court, institution, appraiser or bureau id",
    )
    token.add_argument("--subject", required=True, help="the person or desk the token is for")
    token.add_argument("--hours", type=int, default=24)
    args = parser.parse_args(argv)
    if args.command == "dev":
        from appraisal.dev import run_dev

        return run_dev(get_settings())
    if args.command == "token":
        return _token(args)
    return {"worker": _worker, "api": _api, "migrate": _migrate, "seed": _seed}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
