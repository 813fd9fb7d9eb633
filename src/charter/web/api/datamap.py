"""/api/v1/datamap: check a data map (systems and Fides datasets), optionally against the live stores."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.datamap import service
from charter.datamap.loader import MAX_FILES
from charter.errors import InvalidInput, Problem
from charter.web.bodies import read_limited
from charter.web.security import requires, services_of

router = APIRouter()
BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}, "description": "One file: systems and/or datasets."},
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "object", "additionalProperties": {"type": "string"}}},
                    "required": ["files"],
                },
                "description": "Several files by name, e.g. {'files': {'systems.yaml': '...'}}.",
            },
        },
    }
}


class Bundle(BaseModel):
    files: dict[str, str] = Field(min_length=1, max_length=MAX_FILES)


class FindingOut(BaseModel):
    severity: Literal["error", "drift", "warning", "note"]
    path: str
    message: str
    source: str | None
    line: int | None
    column: int | None


class CheckOut(BaseModel):
    ok: bool
    files: list[str]
    systems: list[str]
    datasets: list[str]
    collections: int
    live: bool
    checked_systems: list[str]
    errors: int
    drift: int
    warnings: int
    notes: int
    findings: list[FindingOut]


async def _sources(request: Request, max_bytes: int) -> list[tuple[str, bytes | str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await read_limited(request, max_bytes * 8)
        try:
            bundle = Bundle.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            raise InvalidInput(
                "the JSON body must be {'files': {name: YAML text, ...}}",
                problems=[Problem("files", "expected an object of file names to YAML texts")],
            ) from None
        return [(name[:200], text) for name, text in sorted(bundle.files.items())]
    raw = await read_limited(request, max_bytes)
    return [(request.headers.get("x-filename", "<body>")[:200], raw)]


@router.post("/check", response_model=CheckOut, openapi_extra=BODY)
async def check(
    request: Request,
    live: bool = Query(False, description="Also connect to each system (URLs from this server's environment)."),
    strict: bool = Query(False, description="Warnings count against ok."),
    _: Principal = requires(Permission.DATAMAP_READ),
) -> Any:
    """Check a data map; 422 problem+json lists every problem of invalid files with line and column."""
    settings = services_of(request).settings
    sources = await _sources(request, settings.datamap.max_bytes)
    report = await run_in_threadpool(service.check_sources, sources, settings, live=live)
    report.raise_if_invalid()
    return report.as_dict(strict=strict)


class ImportOut(BaseModel):
    files: dict[str, str] = Field(description="Charter's data-map files by name: erasure_policy.yaml, systems.yaml, …")
    environment: dict[str, str] = Field(description="Variables to set: the URL's form, PASSWORD for the secret.")
    notes: list[str]
    check: CheckOut


@router.post("/import-fides", response_model=ImportOut, openapi_extra=BODY)
async def import_fides(
    request: Request,
    policy: str | None = Query(None, max_length=200, description="The erasure policy's key, if there are several."),
    _: Principal = requires(Permission.DATAMAP_MANAGE),
) -> Any:
    """Fides' DSR policy and connection configs (JSON or YAML files, Fides datasets too) as Charter's data-map
    files, checked. Nothing is stored: the answer holds the files to put in the data-map folder."""
    settings = services_of(request).settings
    sources = await _sources(request, settings.datamap.max_bytes)
    moved = await run_in_threadpool(service.import_fides, sources, settings, policy=policy)
    return moved.as_dict()
