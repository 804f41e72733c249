"""`appraisal dev | worker | api | migrate | seed | token | calendar | verify | seal | …`."""

import argparse
import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta

from appraisal.core.observability import configure_logging
from appraisal.core.settings import get_settings
from appraisal.domain.roles import Role


def _worker() -> int:
    from appraisal.worker import run_worker

    configure_logging(get_settings())

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

    from appraisal.app import create_app

    settings = get_settings()
    configure_logging(settings)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # uvicorn's records reach the root logger's JSON handler
        log_level=settings.log_level.lower(),
    )
    return 0


def _migrate() -> int:
    from appraisal.db.migrate import upgrade

    upgrade(get_settings().resolved_database_url())
    return 0


def _seed() -> int:
    from appraisal.core.seal import SealLoader
    from appraisal.db.engine import create_engine, session_factory
    from appraisal.seed import seed_demo, seed_demo_accounts, seed_demo_fee_standards
    from appraisal.services import seal

    async def main() -> None:
        settings = get_settings()
        engine = create_engine(settings)
        sessions = session_factory(engine)
        await seed_demo(sessions)
        await seed_demo_accounts(sessions, now=datetime.now(UTC))
        async with sessions() as session:  # the demo institutions' seal certificates
            await seal.ensure_certificates(session=session, seal=SealLoader.of(settings)())
        await seed_demo_fee_standards(sessions, now=datetime.now(UTC))
        await engine.dispose()

    asyncio.run(main())
    return 0


MAX_TOKEN_HOURS = 24 * 366
"""The longest a token may be issued for: a year (a leaver's is revoked, not waited out)."""


def _token(args: argparse.Namespace) -> int:
    if args.action == "revoke":
        return _revoke(args)
    if not (args.role and args.organisation and args.subject):
        print("appraisal token issue: --role, --organisation and --subject are required", file=sys.stderr)
        return 2
    if not 1 <= args.hours <= MAX_TOKEN_HOURS:
        print(f"appraisal token issue: --hours is from 1 to {MAX_TOKEN_HOURS}", file=sys.stderr)
        return 2
    if args.reason:
        print("appraisal token issue: --reason is for revoke", file=sys.stderr)
        return 2
    from appraisal.api.auth import issue_token
    from appraisal.db.engine import create_engine, session_factory
    from appraisal.domain.calendar import local_today
    from appraisal.domain.roles import Actor
    from appraisal.services.registry import organisation_refusal

    settings = get_settings()
    actor = Actor(Role(args.role).value, args.organisation, args.subject)

    async def refusal() -> str | None:
        engine = create_engine(settings)
        try:
            async with session_factory(engine)() as session:
                today = local_today(datetime.now(UTC))
                return await organisation_refusal(session=session, principal=actor, today=today)
        finally:
            await engine.dispose()

    refused = asyncio.run(refusal())
    if refused:
        print(f"appraisal token issue: --organisation: {refused}", file=sys.stderr)
        return 2
    print(issue_token(settings, actor, ttl=timedelta(hours=args.hours)))
    return 0


def _calendar(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from appraisal.core.temporal import connect
    from appraisal.db.engine import create_engine, session_factory
    from appraisal.domain.roles import Actor
    from appraisal.schemas.commission import CalendarYearPut
    from appraisal.services.calendar import load_year, show_year

    settings = get_settings()
    if args.action == "load":
        document = json.loads(Path(args.year_or_file).read_text(encoding="utf-8"))
        year = int(document.pop("year"))
        body = CalendarYearPut.model_validate(document)

    async def main() -> dict[str, object]:
        engine = create_engine(settings)
        try:
            async with session_factory(engine)() as session:
                if args.action == "show":
                    return (await show_year(session=session, year=args.year_or_file)).model_dump(mode="json")
                operator = Actor(Role.SUPERVISOR.value, "", f"operator:{args.by}")
                loaded = await load_year(
                    session=session,
                    client=await connect(settings),
                    task_queue=settings.task_queue,
                    principal=operator,
                    year=year,
                    body=body,
                )
                return loaded.model_dump(mode="json")
        finally:
            await engine.dispose()

    print(json.dumps(asyncio.run(main()), ensure_ascii=False, indent=2))
    return 0


def _sign(args: argparse.Namespace) -> int:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from appraisal.core.signing import demo_private_key, sign, signed_message

    if args.private_key:
        with open(args.private_key, encoding="ascii") as key_file:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(key_file.read().strip()))
    else:
        key = demo_private_key(args.appraiser)
    kind = "dissent" if args.dissent is not None else "sign"
    print(sign(key, signed_message(kind, args.report_hash, args.dissent or "")))
    return 0


def _demo_key(args: argparse.Namespace) -> int:
    import base64

    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from appraisal.core.signing import demo_private_key

    raw = demo_private_key(args.appraiser or args.expert).private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    print(base64.b64encode(raw).decode())
    return 0


def _account(args: argparse.Namespace) -> int:
    """An operator's account: the bureau's first official in production (who then creates
    each court's and institution's first administrator in the workspace)."""
    import getpass

    from appraisal.db.engine import create_engine, session_factory
    from appraisal.domain.calendar import local_today
    from appraisal.domain.errors import InvalidInput, RuleViolation
    from appraisal.services import accounts

    settings = get_settings()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")

    async def main() -> None:
        engine = create_engine(settings)
        try:
            async with session_factory(engine)() as session:
                now = datetime.now(UTC)
                await accounts.create_account(
                    session=session,
                    by=accounts.OPERATOR,
                    username=args.username,
                    password=password,
                    display_name=args.name or args.username,
                    role=Role(args.role),
                    organisation_id=args.organisation,
                    is_admin=args.admin,
                    now=now,
                    today=local_today(now),
                )
        finally:
            await engine.dispose()

    try:
        asyncio.run(main())
    except (InvalidInput, RuleViolation) as err:
        field = getattr(err, "field", getattr(err, "code", ""))
        print(f"appraisal account add: {field}: {err.message}", file=sys.stderr)
        return 2
    print(f"created {args.username} ({args.role}{', administrator' if args.admin else ''})")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from sqlalchemy.dialects.postgresql import insert

    from appraisal.api.auth import InvalidToken, read_token
    from appraisal.db.engine import create_engine, session_factory
    from appraisal.db.models import RevokedToken

    settings = get_settings()
    if not args.token:
        print("appraisal token revoke: give the token or its jti", file=sys.stderr)
        return 2
    try:
        claims = read_token(settings, args.token)
        jti, subject, expires = claims.token_id, claims.actor.subject, claims.expires_at
    except InvalidToken:
        jti, subject, expires = args.token, "", None  # a bare jti

    async def main() -> None:
        engine = create_engine(settings)
        try:
            async with session_factory(engine)() as session:
                row = {"jti": jti, "subject": subject, "reason": args.reason, "revoked_at": datetime.now(UTC)}
                await session.exec(
                    insert(RevokedToken).values(**row, expires_at=expires).on_conflict_do_nothing()
                )
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(main())
    print(f"revoked {jti}")
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    from appraisal.core.temporal import connect
    from appraisal.db.engine import create_engine, session_factory
    from appraisal.rebuild import RebuildReport, rebuild

    settings = get_settings()

    async def main() -> RebuildReport:
        engine = create_engine(settings)
        try:
            return await rebuild(
                client=await connect(settings), sessions=session_factory(engine), dry_run=args.dry_run
            )
        finally:
            await engine.dispose()

    report = asyncio.run(main())
    verb = "would restore" if args.dry_run else "restored"
    print(
        f"{report.workflows} workflows, {report.events} recorded events: {verb} {report.restored},"
        f" {report.matching} already there, {len(report.differing)} differing"
    )
    for where in report.differing:
        print(f"differs: {where} (PostgreSQL holds another event under this number; left as it is)")
    return 0 if report.clean else 1


def _verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from appraisal.core.seal import ROOT_FILE
    from appraisal.report_seal import verify_main

    argv = [args.report]
    argv += [item for path in args.trust for item in ("--trust", path)]
    argv += [item for path in args.crl for item in ("--crl", path)]
    argv += ["--keys", args.keys] if args.keys else []
    default = get_settings().seal_folder() / ROOT_FILE
    return verify_main(argv, default_trust=Path(default))


def _seal(args: argparse.Namespace) -> int:
    from appraisal.core.seal import SealAuthority, SealAuthorityMissing, SealSettings, pem
    from appraisal.db.engine import create_engine, session_factory
    from appraisal.services import seal as seal_service

    settings = get_settings()
    folder = settings.seal_folder()
    if args.action == "init":
        if not args.bureau:
            print("appraisal seal init: --bureau (the bureau's name) is required", file=sys.stderr)
            return 2
        try:
            authority = SealAuthority.create(
                folder, bureau_name=args.bureau, passphrase=settings.seal_key_passphrase
            )
        except FileExistsError as err:
            print(f"appraisal seal init: {err}", file=sys.stderr)
            return 2
        print(f"made the certificate authority in {folder}: root {authority.root.subject.rfc4514_string()}")
        print("back the folder up; give courts bureau-ca.pem (appraisal seal root) to verify reports with")
        return 0
    try:
        authority = SealAuthority(folder, settings.seal_key_passphrase)
    except SealAuthorityMissing as err:
        print(f"appraisal seal {args.action}: {err}", file=sys.stderr)
        return 2
    if args.action == "root":
        print(pem(authority.root), end="")
        return 0
    if args.action == "crl" and not args.out:
        print("appraisal seal crl: --out FILE is required", file=sys.stderr)
        return 2
    seal = SealSettings(authority, settings.seal_certificate_days)

    async def main() -> bytes | int:
        engine = create_engine(settings)
        try:
            async with session_factory(engine)() as session:
                if args.action == "issue":
                    return await seal_service.ensure_certificates(session=session, seal=seal)
                return await seal_service.revocation_list(session=session, seal=seal)
        finally:
            await engine.dispose()

    done = asyncio.run(main())
    if isinstance(done, bytes):
        with open(args.out, "wb") as out:
            out.write(done)
        print(f"wrote {args.out} ({len(done)} bytes)")
    else:
        print(f"issued {done} seal certificates")
    return 0


def _anchor(args: argparse.Namespace) -> int:
    import json

    from appraisal.core.anchor_file import anchor_key
    from appraisal.core.signing import public_key_b64
    from appraisal.db.engine import create_engine, session_factory
    from appraisal.services.audit import AnchorFileVerdict, verify_anchor_file

    settings = get_settings()
    public_key = args.public_key or public_key_b64(anchor_key(settings.anchor_signing_key))
    if args.action == "key":
        print(public_key)
        return 0
    if not args.file:
        print("appraisal anchor verify: give the anchor file", file=sys.stderr)
        return 2
    try:
        with open(args.file, encoding="utf-8") as handle:
            doc = json.load(handle)
    except (OSError, ValueError) as err:
        print(f"appraisal anchor verify: cannot read {args.file}: {err}", file=sys.stderr)
        return 2

    async def main() -> AnchorFileVerdict:
        engine = create_engine(settings)
        try:
            async with session_factory(engine)() as session:
                return await verify_anchor_file(session=session, doc=doc, public_key=public_key)
        finally:
            await engine.dispose()

    verdict = asyncio.run(main())
    print(
        f"{'OK' if verdict.ok else 'FAILED'}: anchor of {verdict.day}, {verdict.chains} chains;"
        f" signature {'verifies' if verdict.signed else 'does NOT verify with the bureau key'};"
        f" {len(verdict.differing)} chains differ from the trail"
    )
    for line in verdict.differing:
        print(f"differs: {line}")
    return 0 if verdict.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="appraisal", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the whole product on embedded defaults")
    commands.add_parser("worker", help="run the Temporal worker")
    commands.add_parser("api", help="run the REST API (uvicorn)")
    commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    commands.add_parser("seed", help="load the demo registry")
    token = commands.add_parser("token", help="issue or revoke a bearer token")
    token.add_argument("action", choices=["issue", "revoke"])
    token.add_argument("token", nargs="?", help="revoke: the token (or its jti)")
    token.add_argument("--reason", default="", help="revoke: why (kept with the revocation)")
    token.add_argument("--role", choices=[r.value for r in Role], help="issue: the principal's role")
    token.add_argument(
        "--organisation",
        help="issue: court (or procuratorate, public security or other investigative organ), institution, "
        "appraiser or bureau id",
    )
    token.add_argument("--subject", help="issue: the person or desk the token is for")
    token.add_argument("--hours", type=int, default=24, help=f"issue: validity, 1 to {MAX_TOKEN_HOURS} hours")
    calendar = commands.add_parser(
        "calendar",
        help="show a year's working-day calendar, or load a year's official schedule from a JSON file",
        description='load FILE: {"year": 2027, "rest_days": ["2027-01-01", ...], '
        '"makeup_workdays": ["2027-02-20", ...], "source": "国办发明电〔2026〕N号"}; '
        "every running commission then recomputes its deadlines.",
    )
    calendar.add_argument("action", choices=["show", "load"])
    calendar.add_argument("year_or_file", help="a year (show) or a JSON file (load)")
    calendar.add_argument("--by", default="cli", help="who loads it (recorded in the audit trail)")
    signer = commands.add_parser(
        "sign",
        help="sign a report hash (or a dissent bound to it) with an appraiser's Ed25519 key",
        description="Prints the base64 signature for POST /v1/commissions/{id}/signatures. Without "
        "--private-key it uses the demo key of a demo appraiser (demo only).",
    )
    signer.add_argument("--appraiser", required=True, help="the appraiser id")
    signer.add_argument("--report-hash", required=True, help="the report's content_hash")
    signer.add_argument("--dissent", metavar="STATEMENT", help="sign this dissent statement instead")
    signer.add_argument("--private-key", metavar="FILE", help="base64 of the raw 32-byte Ed25519 private key")
    account = commands.add_parser(
        "account",
        help="add a workspace account (an operator's: the bureau's first official)",
        description="Creates a workspace account; the password is asked for (or read from stdin). "
        "The bureau's officials then create every court's, other entrusting organ's and institution's "
        "first administrator in the workspace.",
    )
    account.add_argument("action", choices=["add"])
    account.add_argument("username")
    account.add_argument("--role", required=True, choices=[r.value for r in Role])
    account.add_argument(
        "--organisation", required=True, help="the organisation's id (an appraiser's: the appraiser's)"
    )
    account.add_argument("--name", help="the person's name (default: the user name)")
    account.add_argument("--admin", action="store_true", help="administers its organisation's accounts")
    account.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    demo_key = commands.add_parser(
        "demo-key",
        help="print a demo appraiser's or expert's private key (demo only), to sign in the workspace",
        description="Save the output as a file and choose it on the commission page's signing form (or an "
        "application's review form): the browser signs with it and the key never reaches the server. Real "
        "appraisers and experts hold their own key.",
    )
    whose = demo_key.add_mutually_exclusive_group(required=True)
    whose.add_argument("--appraiser", help="the demo appraiser id")
    whose.add_argument("--expert", help="the demo expert id (the expert pool, docs/registration.md)")
    verifier = commands.add_parser(
        "verify",
        help="check a sealed report PDF offline: seal, chain, timestamp, integrity, every signature",
        description="Prints each check in Chinese and English; exit code 1 if any fails. ROOT.pem is the "
        "bureau's root certificate (GET /v1/registry/seal/root.pem; default: this deployment's, in "
        "SEAL_DIR); CRL is a newer revocation list (GET /v1/registry/seal/crl); KEYS.json the "
        "registry's keys (GET /v1/registry/keys), matched against the keys the seal vouches for.",
    )
    verifier.add_argument("report", help="the report PDF")
    verifier.add_argument("--trust", action="append", default=[], metavar="ROOT.pem", help="a trusted root")
    verifier.add_argument("--crl", action="append", default=[], metavar="CRL", help="a revocation list")
    verifier.add_argument("--keys", metavar="KEYS.json", help="the registry's public keys (JSON)")
    sealer = commands.add_parser(
        "seal",
        help="the bureau's seal certificate authority: make it, issue seal certificates, print root or CRL",
        description="init: make the certificate authority and the timestamp authority in SEAL_DIR (once, "
        "in production before the API and the worker start; refuses to replace one). issue: a seal "
        "certificate for every active institution that has none. root: print the root certificate "
        "(PEM). crl: write the revocation list (DER) to --out.",
    )
    sealer.add_argument("action", choices=["init", "issue", "root", "crl"])
    sealer.add_argument("--bureau", help="init: the bureau's name, as the root certificate shows it")
    sealer.add_argument("--out", help="crl: the file to write")
    anchor = commands.add_parser(
        "anchor",
        help="check a daily audit anchor file against the bureau's key and the trail, or print that key",
        description="verify FILE: the signature (with --public-key, or the key ANCHOR_SIGNING_KEY holds) "
        "and every chain's head at that day's end against PostgreSQL now; exit code 1 if either fails.",
    )
    anchor.add_argument("action", choices=["verify", "key"])
    anchor.add_argument("file", nargs="?", help="verify: an audit-anchor-<day>.json")
    anchor.add_argument("--public-key", help="the bureau's public key (base64), if not this deployment's")
    rebuilder = commands.add_parser(
        "rebuild",
        help="derive the audit trail, read model and inbox again from Temporal's histories",
        description="After a restore from an older backup or a lost database: records again every "
        "event PostgreSQL lacks, leaves the rest, and lists every event that differs (exit code 1).",
    )
    rebuilder.add_argument("--dry-run", action="store_true", help="only count; write nothing")
    args = parser.parse_args(argv)
    if args.command == "calendar" and args.action == "show":
        args.year_or_file = int(args.year_or_file)
    if args.command == "dev":
        from appraisal.dev import run_dev

        return run_dev(get_settings())
    if args.command == "token":
        return _token(args)
    if args.command == "calendar":
        return _calendar(args)
    if args.command == "sign":
        return _sign(args)
    if args.command == "account":
        return _account(args)
    if args.command == "demo-key":
        return _demo_key(args)
    if args.command == "rebuild":
        return _rebuild(args)
    if args.command == "anchor":
        return _anchor(args)
    if args.command == "verify":
        return _verify(args)
    if args.command == "seal":
        return _seal(args)
    return {"worker": _worker, "api": _api, "migrate": _migrate, "seed": _seed}[args.command]()


def run() -> int:
    """The `appraisal` command: a reader that stops early (`| head`) ends it quietly."""
    try:
        code = main()
        sys.stdout.flush()  # inside the try: a reader gone by now is a broken pipe too
        return code
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at nothing so that is quiet too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(run())
