"""The application the API and open-data benchmarks time in process: on the benchmark's database, opened read
only on PostgreSQL (a benchmark never writes to the data it measures), with no rate limit."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_only_app(database_url: str, name: str):
    """The application on `database_url`; `name` names its secret key and its instance folder."""
    from feedback import create_app

    options: dict = {"pool_pre_ping": True}
    if database_url.startswith("postgresql"):
        options["connect_args"] = {"options": "-c default_transaction_read_only=on"}
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": f"bench-{name}",
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": str(ROOT / "bench" / ".data" / f"{name}-instance"),
        }
    )
