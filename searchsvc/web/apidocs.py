"""A human-readable page of the API at ``/api/docs``, rendered on the server from the OpenAPI document.

No script and no external resource: the page is plain HTML under the site's
Content-Security-Policy. Descriptions are the document's own text, with its
`code` spans shown as code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

_CODE = re.compile(r"`([^`]+)`")
METHOD_ORDER = ("get", "options")


def rich(text: str) -> Markup:
    """Return ``text`` escaped as HTML, its `code` spans in ``<code>``.

    >>> str(rich("use `a<b>` & more"))
    'use <code>a&lt;b&gt;</code> &amp; more'
    """
    escaped = str(escape(text))
    return Markup(_CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escaped))


def schema_text(schema: dict[str, Any]) -> str:
    """Return a short description of a parameter schema: type, allowed values, range, default."""
    inner = schema.get("items", schema) if schema.get("type") == "array" else schema
    parts = [str(inner.get("type", "")) + (" (repeatable)" if schema.get("type") == "array" else "")]
    if "format" in inner:
        parts.append(str(inner["format"]))
    if "enum" in inner:
        parts.append("one of " + ", ".join(map(str, inner["enum"])))
    if "minimum" in inner or "maximum" in inner:
        parts.append(f"{inner.get('minimum', '')}–{inner.get('maximum', '')}")
    if "maxLength" in inner:
        parts.append(f"at most {inner['maxLength']} characters")
    if "default" in inner:
        parts.append(f"default {json.dumps(inner['default'], ensure_ascii=False)}")
    return "; ".join(p for p in parts if p)


@dataclass(frozen=True)
class Parameter:
    """One parameter as the page shows it."""

    name: str
    where: str
    schema: str
    description: Markup


@dataclass(frozen=True)
class Operation:
    """One method of one path as the page shows it."""

    method: str
    path: str
    anchor: str
    summary: Markup
    description: Markup
    parameters: tuple[Parameter, ...]
    responses: tuple[tuple[str, Markup], ...]


def operations(document: dict[str, Any]) -> list[Operation]:
    """Return every documented operation, in the document's path order, GET before OPTIONS."""
    found = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in sorted(k for k in item if k in METHOD_ORDER):
            operation = item[method]
            params = [*shared, *operation.get("parameters", [])]
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    anchor=operation["operationId"],
                    summary=rich(operation.get("summary", "")),
                    description=rich(operation.get("description", "")),
                    parameters=tuple(
                        Parameter(
                            p["name"], p["in"], schema_text(p["schema"]), rich(p.get("description", ""))
                        )
                        for p in params
                    ),
                    responses=tuple(
                        (status, rich(reply.get("description", "")))
                        for status, reply in operation["responses"].items()
                    ),
                )
            )
    return found


def schemas(document: dict[str, Any]) -> list[tuple[str, list[tuple[str, str, bool, Markup]]]]:
    """Return each response schema's properties: name, type, whether required, description."""
    shown = []
    for name, schema in document["components"]["schemas"].items():
        required = set(schema.get("required", []))
        rows = []
        for prop, spec in schema.get("properties", {}).items():
            kinds = spec.get("anyOf", [spec])
            kind = " or ".join(
                str(k.get("type") or k.get("$ref", "object").rsplit("/", 1)[-1]) for k in kinds
            )
            rows.append((prop, kind, prop in required, rich(spec.get("description", ""))))
        shown.append((name, rows))
    return shown
