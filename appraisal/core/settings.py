"""Every knob of the product, read from the environment (or .env)."""

import base64
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-000000"  # noqa: S105 - refused outside dev

# REG-9: the official grades and cycle are unverified, so this rule is provisional and configurable.
DEFAULT_INTEGRITY_DEDUCTIONS = {
    "overdue_deadline": 2,
    "refused_to_testify": 20,
    "criticism_or_correction_order": 5,
    "industry_discipline": 15,
    "administrative_penalty_referral": 30,
    "administrative_penalty": 40,
    "training_shortfall": 5,
    "inspection_finding": 5,
    "fee_violation": 10,
}
ADDED_INTEGRITY_ITEMS = (
    "administrative_penalty",
    "training_shortfall",
    "inspection_finding",
    "fee_violation",
)
"""Items added after INTEGRITY_DEDUCTIONS was first configurable: a value set before them
keeps working, each added item taking its default points."""
DEFAULT_INTEGRITY_GRADE_FLOORS = {"A": 90, "B": 75, "C": 60}
LOWEST_INTEGRITY_GRADE = "D"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path(".appraisal-data")
    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://…; unset in dev: embedded PostgreSQL",
    )
    temporal_address: str | None = Field(
        default=None,
        description="host:port of a Temporal frontend; unset in dev: embedded dev server",
    )
    temporal_namespace: str = "default"
    task_queue: str = "appraisal"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    postgres_port: int = 54329
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    db_pool_size: int = 10
    jwt_secret: str = DEV_JWT_SECRET
    jwt_ttl_hours: int = 24 * 30
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="level of the JSON log lines the API and the worker write to standard error",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector (e.g. http://collector:4318); unset: no tracing",
    )
    otel_service_name: str = Field(
        default="appraisal",
        description="service.name of the spans the worker exports",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1,
        description="largest request body the API reads; a larger one is refused with 413",
    )
    worker_metrics_address: str = Field(
        default="127.0.0.1:9464",
        description="host:port where the worker serves Temporal SDK metrics to Prometheus; empty: off",
    )
    # How much one worker process takes on at once: the SDK's defaults but for the sticky
    # timeout (docs/benchmarks.md: the worker-kill drill and timers due at one instant).
    worker_max_cached_workflows: int = Field(
        default=1000,
        ge=0,
        description="open workflows the worker keeps in memory (about 300 KiB each); one not kept is "
        "replayed from its history when it wakes; 0: none kept",
    )
    worker_max_concurrent_workflow_tasks: int = Field(
        default=100, ge=2, description="workflow tasks the worker runs at once"
    )
    worker_max_concurrent_activities: int = Field(
        default=100, ge=1, description="activities the worker runs at once (they share DB_POOL_SIZE)"
    )
    worker_max_concurrent_local_activities: int = Field(
        default=100, ge=1, description="local activities (clock planning) the worker runs at once"
    )
    worker_workflow_task_pollers: int = Field(
        default=5, ge=2, description="long polls the worker keeps open for workflow tasks, at most"
    )
    worker_activity_task_pollers: int = Field(
        default=5, ge=1, description="long polls the worker keeps open for activity tasks, at most"
    )
    worker_sticky_timeout_seconds: float = Field(
        default=5,
        gt=0,
        description="seconds a woken workflow's task waits for the worker that caches it before any worker "
        "may take it and replay it (SDK default 10); a worker that died holds its cached workflows' tasks "
        "this long, so it bounds the recovery after a crash; a burst of timers queues longer, and each "
        "task timed out is replayed",
    )
    paper_history_days: int = Field(
        default=365,
        ge=1,
        le=36500,
        description="how many days back the receipt of a commission or complaint brought in from "
        "paper may lie",
    )
    read_your_writes_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description="how long a read given X-Min-Seq waits for the read model to reach that sequence "
        "before it answers 503",
    )
    integrity_deductions: dict[str, int] = Field(
        default=DEFAULT_INTEGRITY_DEDUCTIONS,
        description="points the annual integrity evaluation takes off 100 per item, as JSON "
        "(REG-9: provisional)",
    )
    integrity_grade_floors: dict[str, int] = Field(
        default=DEFAULT_INTEGRITY_GRADE_FLOORS,
        description="lowest score of each integrity grade, best first, as JSON; below the last: "
        f"{LOWEST_INTEGRITY_GRADE} (REG-9: provisional)",
    )

    training_min_hours: int = Field(
        default=40,
        ge=0,
        le=1000,
        description="in-service training hours (岗位培训) each appraiser completes every year; fewer are "
        "a shortfall in the annual integrity evaluation (TRN-2, M)",
    )

    inspection_institutions: int = Field(
        default=3, ge=1, le=100, description="institutions the monthly random inspection draws per bureau"
    )
    inspection_case_files_per_institution: int = Field(
        default=2, ge=1, le=100, description="case files (commissions) it draws of each institution"
    )
    anchor_dir: Path | None = Field(
        default=None,
        description="where the worker writes each day's signed audit anchor file; default DATA_DIR/anchors",
    )
    anchor_signing_key: str = Field(
        default="",
        description="base64 of the bureau's raw 32-byte Ed25519 private key that signs the daily anchor "
        "files; required in production (dev and tests sign with a demo key)",
    )
    notification_channel: Literal["file", "log", "gateway"] = Field(
        default="file",
        description="how SMS and e-mail notifications (to parties, and to organisations that gave a number or "
        "an address instead of a webhook) leave: `file` (dev: JSON lines in NOTIFICATION_FILE), `log`, or "
        "`gateway` (SMTP_HOST, SMS_GATEWAY_URL); webhooks are always POSTed",
    )
    notification_file: Path | None = Field(
        default=None, description="the file channel's file; default DATA_DIR/notifications.jsonl"
    )
    smtp_host: str = Field(default="", description="the SMTP relay for e-mail (gateway channel); empty: none")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_sender: str = Field(default="", description="From: of the e-mails sent")
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    sms_gateway_url: str = Field(
        default="",
        description="the SMS gateway's HTTP endpoint (gateway channel): POST {to, text, id}; empty: none",
    )
    sms_gateway_token: str = Field(default="", description="bearer token the SMS gateway expects")
    party_link_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 30,
        description="how long a party's one-time sign-in link stays valid (it works once)",
    )
    party_session_hours: int = Field(
        default=8, ge=1, le=24, description="how long a party's bearer token from its link lasts (the API)"
    )
    inspection_inspectors: int = Field(
        default=2, ge=1, le=50, description="inspectors it draws from the bureau's inspector list"
    )
    seal_dir: Path | None = Field(
        default=None,
        description="the folder of the bureau's seal certificate authority and timestamp authority (their "
        "keys, and each institution's seal key): made by `appraisal seal init`; required in production; "
        "default DATA_DIR/seal, made on first use in dev and tests",
    )
    seal_key_passphrase: str = Field(
        default="", description="encrypts the keys in SEAL_DIR (PEM, PKCS #8) when set; empty: not encrypted"
    )
    seal_certificate_days: int = Field(
        default=1095,
        ge=30,
        le=3650,
        description="how long an institution's seal certificate is valid; a new one is issued 30 days "
        "before the end, at its next sealing",
    )

    @model_validator(mode="after")
    def no_development_secret_in_production(self) -> "Settings":
        if self.environment != "dev" and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError(
                "JWT_SECRET is the development default: set a secret of your own outside dev mode"
            )
        if len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters")
        if self.environment == "production" and not self.anchor_signing_key:
            raise ValueError(
                "ANCHOR_SIGNING_KEY is needed in production: base64 of a raw 32-byte Ed25519 private key"
            )
        if self.environment == "production" and self.seal_dir is None:
            raise ValueError(
                "SEAL_DIR is needed in production: the folder `appraisal seal init` made for the bureau's "
                "seal certificate authority"
            )
        if self.anchor_signing_key:
            try:
                raw = base64.b64decode(self.anchor_signing_key, validate=True)
            except ValueError as err:
                raise ValueError("ANCHOR_SIGNING_KEY is not base64") from err
            if len(raw) != 32:
                raise ValueError("ANCHOR_SIGNING_KEY must decode to 32 bytes (a raw Ed25519 private key)")
        return self

    def anchor_folder(self) -> Path:
        return self.anchor_dir or self.data_dir / "anchors"

    def seal_folder(self) -> Path:
        return self.seal_dir or self.data_dir / "seal"

    @model_validator(mode="after")
    def integrity_rule_is_complete(self) -> "Settings":
        for item in ADDED_INTEGRITY_ITEMS:
            self.integrity_deductions.setdefault(item, DEFAULT_INTEGRITY_DEDUCTIONS[item])
        deductions = self.integrity_deductions
        if set(deductions) != set(DEFAULT_INTEGRITY_DEDUCTIONS) or min(deductions.values()) < 0:
            items = ", ".join(DEFAULT_INTEGRITY_DEDUCTIONS)
            raise ValueError(f"INTEGRITY_DEDUCTIONS gives each of {items} points ≥ 0, and nothing else")
        floors = list(self.integrity_grade_floors.values())
        if not floors or floors != sorted(set(floors), reverse=True) or floors[0] > 100 or floors[-1] <= 0:
            raise ValueError("INTEGRITY_GRADE_FLOORS are distinct scores from 100 down to 1, best first")
        return self

    def embedded_database_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.postgres_port}/appraisal"

    def resolved_database_url(self) -> str:
        return self.database_url or self.embedded_database_url()

    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"


def get_settings() -> Settings:
    return Settings()
