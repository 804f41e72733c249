"""The demo registry `appraisal dev` seeds, and a token for each demo principal.
Ids are derived from names, so seeding again changes nothing."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.core.signing import demo_private_key, fingerprint, public_key_b64
from appraisal.db.models import (
    Appraiser,
    AppraiserKey,
    Bureau,
    Court,
    EntrustingOrgan,
    Expert,
    FeeStandard,
    Inspector,
    Institution,
    UserAccount,
)
from appraisal.domain.calendar import local_today
from appraisal.domain.organs import role_of
from appraisal.domain.roles import Actor, Role
from appraisal.services import accounts

DEMO_NAMESPACE = uuid.UUID("0b6c1f3e-2d4a-5b8c-9e7f-a1b2c3d4e5f6")


def demo_id(name: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, name))


BUREAU = Bureau(id=demo_id("bureau"), name="重庆市司法局 Chongqing Municipal Bureau of Justice")
OTHER_BUREAU = Bureau(
    id=demo_id("bureau-sichuan"), name="四川省司法厅 Sichuan Provincial Department of Justice"
)
"""A bureau with nothing registered under it: whose supervisors see none of the demo."""
COURTS = [
    Court(
        id=demo_id("court-yuzhong"),
        name="重庆市渝中区人民法院 Yuzhong District People's Court",
        bureau_id=BUREAU.id,
    ),
    Court(
        id=demo_id("court-jiangbei"),
        name="重庆市江北区人民法院 Jiangbei District People's Court",
        bureau_id=BUREAU.id,
    ),
]
ORGANS = [
    EntrustingOrgan(
        id=demo_id("procuratorate-yuzhong"),
        name="重庆市渝中区人民检察院 Yuzhong District People's Procuratorate",
        kind="procuratorate",
        bureau_id=BUREAU.id,
    ),
    EntrustingOrgan(
        id=demo_id("procuratorate-jiangbei"),
        name="重庆市江北区人民检察院 Jiangbei District People's Procuratorate",
        kind="procuratorate",
        bureau_id=BUREAU.id,
    ),
    EntrustingOrgan(
        id=demo_id("police-yuzhong"),
        name="重庆市公安局渝中区分局 Yuzhong District Public Security Sub-bureau",
        kind="public_security",
        bureau_id=BUREAU.id,
    ),
    EntrustingOrgan(
        id=demo_id("police-jiangbei"),
        name="重庆市公安局江北区分局 Jiangbei District Public Security Sub-bureau",
        kind="public_security",
        bureau_id=BUREAU.id,
    ),
    EntrustingOrgan(
        id=demo_id("customs-anti-smuggling"),
        name="重庆海关缉私局 Chongqing Customs Anti-Smuggling Bureau",
        kind="customs_anti_smuggling",
        bureau_id=BUREAU.id,
    ),
    EntrustingOrgan(
        id=demo_id("state-security"),
        name="重庆市国家安全局 Chongqing State Security Bureau",
        kind="state_security",
        bureau_id=BUREAU.id,
    ),
]
"""The demo's other entrusting organs (ENT-1): two of each role, so each has one outside it."""
PROCURATORATES = [o for o in ORGANS if o.kind == "procuratorate"]
POLICE = [o for o in ORGANS if o.kind == "public_security"]
INVESTIGATIVE_ORGANS = [o for o in ORGANS if o.kind not in ("procuratorate", "public_security")]
INSTITUTIONS = [
    Institution(
        id=demo_id("inst-xinan"),
        name="西南司法鉴定中心 Southwest Forensic Centre",
        bureau_id=BUREAU.id,
        categories=["forensic_clinical", "forensic_pathology"],
        licence_number="500001001",
        short_name="西南司鉴中心",
        address="重庆市渝中区中山一路1号（邮政编码：400010）",
        phone="023-63000001",
    ),
    Institution(
        id=demo_id("inst-shancheng"),
        name="山城司法鉴定所 Shancheng Appraisal Institute",
        bureau_id=BUREAU.id,
        categories=["forensic_clinical", "trace_evidence"],
        licence_number="500001002",
        short_name="山城司鉴所",
        address="重庆市江北区建新北路2号（邮政编码：400020）",
        phone="023-67000002",
    ),
    Institution(
        id=demo_id("inst-jialing"),
        name="嘉陵声像资料司法鉴定所 Jialing Audio-Visual Appraisal Institute",
        bureau_id=BUREAU.id,
        categories=["audio_visual", "trace_evidence"],
        licence_number="500001003",
        short_name="嘉陵声像司鉴所",
        address="重庆市沙坪坝区天星桥3号（邮政编码：400030）",
        phone="023-65000003",
    ),
]
_XINAN, _SHANCHENG, _JIALING = (i.id for i in INSTITUTIONS)
APPRAISERS = [
    Appraiser(
        id=demo_id("appr-wang"),
        name="王明 Wang Ming",
        institution_id=_XINAN,
        categories=["forensic_clinical", "forensic_pathology"],
        senior_title=True,
        licence_number="500100000001",
    ),
    Appraiser(
        id=demo_id("appr-li"),
        name="李华 Li Hua",
        institution_id=_XINAN,
        categories=["forensic_clinical"],
        licence_number="500100000002",
    ),
    Appraiser(
        id=demo_id("appr-sun"),
        name="孙丽 Sun Li",
        institution_id=_XINAN,
        categories=["forensic_clinical"],
        licence_number="500100000003",
    ),
    Appraiser(
        id=demo_id("appr-zhang"),
        name="张伟 Zhang Wei",
        institution_id=_XINAN,
        categories=["forensic_pathology"],
        licence_number="500100000004",
    ),
    Appraiser(
        id=demo_id("appr-liu"),
        name="刘洋 Liu Yang",
        institution_id=_SHANCHENG,
        categories=["forensic_clinical"],
        licence_number="500100000005",
    ),
    Appraiser(
        id=demo_id("appr-chen"),
        name="陈静 Chen Jing",
        institution_id=_SHANCHENG,
        categories=["forensic_clinical", "trace_evidence"],
        licence_number="500100000006",
    ),
    Appraiser(
        id=demo_id("appr-wu"),
        name="吴刚 Wu Gang",
        institution_id=_SHANCHENG,
        categories=["forensic_clinical"],
        senior_title=True,
        licence_number="500100000007",
    ),
    Appraiser(
        id=demo_id("appr-yang"),
        name="杨帆 Yang Fan",
        institution_id=_SHANCHENG,
        categories=["trace_evidence"],
        licence_number="500100000008",
    ),
    Appraiser(
        id=demo_id("appr-zhao"),
        name="赵磊 Zhao Lei",
        institution_id=_JIALING,
        categories=["audio_visual"],
        licence_number="500100000009",
    ),
    Appraiser(
        id=demo_id("appr-huang"),
        name="黄敏 Huang Min",
        institution_id=_JIALING,
        categories=["audio_visual", "trace_evidence"],
        licence_number="500100000010",
    ),
    Appraiser(
        id=demo_id("appr-zhou"),
        name="周涛 Zhou Tao",
        institution_id=_JIALING,
        categories=["trace_evidence"],
        licence_number="500100000011",
    ),
]


def _demo_key(appraiser: Appraiser) -> AppraiserKey:
    public_key = public_key_b64(demo_private_key(appraiser.id))
    return AppraiserKey(
        fingerprint=fingerprint(public_key),
        appraiser_id=appraiser.id,
        public_key=public_key,
        valid_from=date(2020, 1, 1),
    )


APPRAISER_KEYS = [_demo_key(a) for a in APPRAISERS]
INSPECTORS = [
    Inspector(id=demo_id(f"inspector-{key}"), name=name, bureau_id=BUREAU.id)
    for key, name in [
        ("sun", "孙丽 Sun Li"),
        ("ma", "马军 Ma Jun"),
        ("hu", "胡婷 Hu Ting"),
        ("guo", "郭强 Guo Qiang"),
    ]
]

EXPERTS = [
    Expert(
        id=demo_id(f"expert-{key}"),
        name=name,
        bureau_id=BUREAU.id,
        categories=categories,
        title=title,
        affiliation_institution_id=affiliation,
        public_key=public_key_b64(demo_private_key(demo_id(f"expert-{key}"))),
    )
    for key, name, categories, title, affiliation in [
        (
            "chen",
            "陈思远 Chen Siyuan",
            ["forensic_clinical", "forensic_pathology"],
            "法医学教授 professor of forensic medicine",
            None,
        ),
        (
            "lin",
            "林静 Lin Jing",
            ["forensic_clinical", "trace_evidence"],
            "主任法医师 chief forensic physician",
            _SHANCHENG,
        ),
        ("he", "何平 He Ping", ["forensic_clinical"], "主任医师 chief physician", None),
        (
            "song",
            "宋远 Song Yuan",
            ["forensic_clinical", "forensic_pathology", "audio_visual", "trace_evidence"],
            "研究员 research fellow",
            None,
        ),
        ("zhao", "赵宁 Zhao Ning", ["audio_visual", "trace_evidence"], "高级工程师 senior engineer", None),
    ]
]
"""The demo bureau's expert pool (专家库); each signs with a key derived from its id (demo only)."""


@dataclass(frozen=True)
class DemoPrincipal:
    key: str
    """Shell-friendly name, e.g. COURT_1 (the token is exported as COURT_1_TOKEN)."""
    label: str
    actor: Actor


DEMO_PASSWORD = "appraisal-demo-2026"  # noqa: S105 - the demo's, printed by `appraisal dev`
"""Every demo account's password (the demo only: `appraisal dev` prints it)."""
DEMO_ADMINS = (
    Role.COURT,
    Role.PROCURATORATE,
    Role.PUBLIC_SECURITY,
    Role.INVESTIGATIVE_ORGAN,
    Role.INSTITUTION,
    Role.SUPERVISOR,
)
"""Demo accounts that administer their organisation's accounts."""


def demo_username(principal: DemoPrincipal) -> str:
    return principal.key.lower().replace("_", "-")


async def seed_demo_accounts(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> list[str]:
    """One workspace account per demo principal (user name from its key, e.g. court-1), with
    DEMO_PASSWORD; those already there are left as they are. The user names created."""
    created = []
    async with sessions() as session:
        for principal in demo_principals():
            username = demo_username(principal)
            if (await session.exec(select(UserAccount).where(UserAccount.username == username))).first():
                continue
            await accounts.create_account(
                session=session,
                by=accounts.OPERATOR,
                username=username,
                password=DEMO_PASSWORD,
                display_name=principal.label[:100],
                role=Role(principal.actor.role),
                organisation_id=principal.actor.organisation_id,
                is_admin=principal.actor.role in DEMO_ADMINS,
                now=now,
                today=local_today(now),
            )
            created.append(username)
    return created


def demo_principals() -> list[DemoPrincipal]:
    principals = [
        DemoPrincipal(f"COURT_{n}", c.name, Actor(Role.COURT, c.id, f"clerk@{c.id[:8]}"))
        for n, c in enumerate(COURTS, 1)
    ]
    for prefix, organs in (
        ("PROCURATORATE", PROCURATORATES),
        ("PUBLIC_SECURITY", POLICE),
        ("INVESTIGATIVE_ORGAN", INVESTIGATIVE_ORGANS),
    ):
        principals += [
            DemoPrincipal(f"{prefix}_{n}", o.name, Actor(role_of(o.kind), o.id, f"officer@{o.id[:8]}"))
            for n, o in enumerate(organs, 1)
        ]
    for n, inst in enumerate(INSTITUTIONS, 1):
        principals.append(
            DemoPrincipal(
                f"INSTITUTION_{n}",
                f"{inst.name} intake desk",
                Actor(Role.INSTITUTION, inst.id, f"desk@{inst.id[:8]}"),
            )
        )
        principals.append(
            DemoPrincipal(
                f"HEAD_{n}",
                f"{inst.name} head",
                Actor(Role.INSTITUTION_HEAD, inst.id, f"head@{inst.id[:8]}"),
            )
        )
    for n, appraiser in enumerate(APPRAISERS, 1):
        title = ", senior title" if appraiser.senior_title else ""
        principals.append(
            DemoPrincipal(
                f"APPRAISER_{n}",
                f"{appraiser.name}{title}",
                Actor(Role.APPRAISER, appraiser.id, appraiser.name),
            )
        )
    principals.append(
        DemoPrincipal("SUPERVISOR", BUREAU.name, Actor(Role.SUPERVISOR, BUREAU.id, "inspector"))
    )
    for n, expert in enumerate(EXPERTS, 1):
        principals.append(
            DemoPrincipal(f"EXPERT_{n}", f"{expert.name}, expert", Actor(Role.EXPERT, expert.id, expert.name))
        )
    return principals


DEMO_FEE_SOURCE = (
    "演示数据 demo figures, in the shape of a provincial 司法鉴定收费标准 (政府指导价, 按件): replace with the "
    "province's own document"
)
DEMO_FEE_STANDARDS = (
    ("forensic_clinical", "伤残等级评定", 180000),
    ("forensic_clinical", "损伤程度鉴定", 120000),
    ("forensic_clinical", "", 200000),
    ("forensic_pathology", "", 600000),
    ("trace_evidence", "", 300000),
    ("audio_visual", "", 400000),
)
"""(category, matter — empty: any matter of the category —, ceiling in fen) of the demo bureau."""


async def seed_demo_fee_standards(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> None:
    """The demo bureau's charging standards (FEE-1), unless it already keeps one for the same
    category and matter. Dev only: a bureau sets its own (`POST /v1/fee-standards`)."""
    async with sessions() as session, session.begin():
        for category, matter, ceiling in DEMO_FEE_STANDARDS:
            standard = FeeStandard(
                id=demo_id(f"fee-standard {category} {matter}"),
                bureau_id=BUREAU.id,
                category=category,
                matter=matter,
                ceiling_fen=ceiling,
                source=DEMO_FEE_SOURCE,
                effective_from=date(2026, 1, 1),
                created_by="demo seed",
                created_at=now,
            )
            await session.exec(insert(FeeStandard).values(**standard.model_dump()).on_conflict_do_nothing())


async def seed_demo(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        rows: list[SQLModel] = [
            BUREAU,
            OTHER_BUREAU,
            *COURTS,
            *ORGANS,
            *INSTITUTIONS,
            *APPRAISERS,
            *APPRAISER_KEYS,
            *INSPECTORS,
            *EXPERTS,
        ]
        for row in rows:
            table = type(row)
            await session.exec(insert(table).values(**row.model_dump()).on_conflict_do_nothing())
