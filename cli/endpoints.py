"""Where the running desk is: its endpoints file, written by `helpdesk up`, and its database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from desk.config import Settings


def read_endpoints(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "endpoints.json"
    if not path.exists():
        raise SystemExit(f"no running desk: {path} does not exist (start one with `make run`)")
    endpoints: dict[str, Any] = json.loads(path.read_text())
    return endpoints


def database_url(args: argparse.Namespace, settings: Settings) -> str:
    if args.database_url:
        return str(args.database_url)
    if settings.endpoints_file.exists():
        return str(json.loads(settings.endpoints_file.read_text())["postgres"])
    if settings.database_url:
        return settings.database_url
    raise SystemExit(
        f"no database: {settings.endpoints_file} does not exist (start the desk with `make run`),"
        " DATABASE_URL is not set and --database-url was not given"
    )
