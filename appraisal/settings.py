"""Every knob of the product, read from the environment (or .env)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-000000"  # noqa: S105 - refused outside dev


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

    @model_validator(mode="after")
    def no_development_secret_in_production(self) -> "Settings":
        if self.environment != "dev" and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError(
                "JWT_SECRET is the development default: set a secret of your own outside dev mode"
            )
        if len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters")
        return self

    def embedded_database_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.postgres_port}/appraisal"

    def resolved_database_url(self) -> str:
        return self.database_url or self.embedded_database_url()

    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"


def get_settings() -> Settings:
    return Settings()
