"""Bot API spec (``telegram_api.json``) loading and parameter validation for the fake server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "ApiError",
    "MethodSpec",
    "UploadedFile",
    "fill_required",
    "load_spec",
    "validate_params",
]

SPEC_PATH = Path(__file__).with_name("telegram_api.json")


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, what: str, parameters: dict[str, Any] | None = None) -> ApiError:
        return cls(400, f"Bad Request: {what}", parameters)

    @classmethod
    def forbidden(cls, what: str) -> ApiError:
        return cls(403, f"Forbidden: {what}")

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    methods: dict[str, MethodSpec]  # keyed by lower-case name (Telegram is case-insensitive)
    types: dict[str, dict[str, Any]]


@cache
def load_spec() -> Spec:
    raw = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    methods: dict[str, MethodSpec] = {}
    for name, m in raw["methods"].items():
        fields = {
            f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"]))
            for f in m.get("fields", [])
        }
        methods[name.lower()] = MethodSpec(name, fields, tuple(m.get("returns", [])))
    return Spec(methods, raw["types"])


def _parse_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return _INVALID
    return value


class _Invalid:
    pass


_INVALID: Any = _Invalid()


def _coerce(value: Any, type_name: str, spec: Spec) -> Any:
    """Return the value converted to ``type_name`` or ``_INVALID``."""
    if type_name == "Integer":
        if isinstance(value, bool):
            return _INVALID
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                return _INVALID
        return _INVALID
    if type_name == "Float":
        if isinstance(value, bool):
            return _INVALID
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return _INVALID
        return _INVALID
    if type_name == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false", "1", "0"}:
            return value.lower() in {"true", "1"}
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        return _INVALID
    if type_name == "String":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return _INVALID
    if type_name == "InputFile":
        if isinstance(value, UploadedFile):
            return value
        return _INVALID
    if type_name.startswith("Array of "):
        inner = type_name[len("Array of ") :]
        parsed = _parse_json(value)
        if not isinstance(parsed, list):
            return _INVALID
        out = []
        for item in parsed:
            coerced = _coerce(item, inner, spec)
            if coerced is _INVALID:
                return _INVALID
            out.append(coerced)
        return out
    if type_name in spec.types:
        parsed = _parse_json(value)
        if not isinstance(parsed, dict):
            return _INVALID
        return parsed
    return _INVALID


def validate_params(method: MethodSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Check names, presence and basic types; return the params converted to Python values."""
    spec = load_spec()
    out: dict[str, Any] = {}
    uploads = {k: v for k, v in params.items() if isinstance(v, UploadedFile)}
    for name, value in params.items():
        field = method.fields.get(name)
        if field is None:
            if isinstance(value, UploadedFile) and any(
                isinstance(v, str) and v == f"attach://{name}" for v in params.values()
            ):
                continue  # attached file referenced by attach://
            raise ApiError.bad_request(f"unknown parameter {name}")
        if isinstance(value, str) and value.startswith("attach://"):
            attached = uploads.get(value[len("attach://") :])
            if attached is None:
                raise ApiError.bad_request(f"file {value} not found in the request")
            value = attached
        for type_name in field.types:
            coerced = _coerce(value, type_name, spec)
            if coerced is not _INVALID:
                out[name] = coerced
                break
        else:
            raise ApiError.bad_request(
                f"invalid parameter {name}: expected {' or '.join(field.types)}"
            )
    for field in method.fields.values():
        if field.required and field.name not in out:
            raise ApiError.bad_request(f"parameter {field.name} is required")
    return out


def fill_required(type_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Add harmless defaults for required Boolean/Integer/object fields missing from ``data``.

    Used for objects whose required fields grow with every Bot API version (ChatFullInfo,
    ChatMemberAdministrator, ...), so PTB can always deserialize what the fake returns.
    """
    spec = load_spec()
    tdef = spec.types.get(type_name, {})
    out = dict(data)
    for f in tdef.get("fields", []):
        if not f["required"] or f["name"] in out:
            continue
        t = f["types"][0]
        if t == "Boolean":
            out[f["name"]] = False
        elif t in {"Integer", "Float"}:
            out[f["name"]] = 0
        elif t == "String":
            out[f["name"]] = ""
        elif t.startswith("Array of"):
            out[f["name"]] = []
        elif t in spec.types:
            out[f["name"]] = fill_required(t, {})
    return out
