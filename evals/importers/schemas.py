"""Function schemas of external benchmarks -> the JSON schemas Fanout's tools declare.

BFCL writes Python-flavoured types (`dict`, `float`, `tuple`, `any`); NESTFUL mixes several loose
spec styles (`required: true` on each parameter, `allowed_values`, capitalised type names). Both
become plain JSON schemas so every provider adapter can send them unchanged.
"""

from __future__ import annotations

import copy
import re
from typing import Any

# BFCL's own OpenAPI mapping (bfcl_eval/constants/type_mappings.py, GORILLA_TO_OPENAPI), so a model
# sees the schema BFCL would send it.
BFCL_TYPES = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "dict": "object",
    "object": "object",
    "tuple": "array",
    "any": "string",
}

_NAME_OK = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(raw: str) -> str:
    """A provider-safe function name (`^[A-Za-z0-9_-]{1,64}$`): BFCL replaces `.` by `_` for the same
    reason; other characters (spaces in TaskBench) become `_` too."""
    name = _NAME_OK.sub("_", raw.strip()) or "tool"
    return name[:64]


def bfcl_schema(parameters: dict) -> dict:
    """BFCL `parameters` -> JSON schema of the arguments object."""
    out = _bfcl_node(copy.deepcopy(parameters))
    out["type"] = "object"
    out.setdefault("properties", {})
    return out


def _bfcl_node(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    raw_type = node.get("type")
    if raw_type is None:
        node["type"] = "string"  # BFCL's converter does the same for untyped parameters
    elif isinstance(raw_type, str):
        node["type"] = BFCL_TYPES.get(raw_type, "string")
        if raw_type == "float":
            node["format"] = "float"
            desc = node.get("description", "")
            node["description"] = (desc + " This is a float type value.").strip()
    if isinstance(node.get("properties"), dict):
        node["properties"] = {k: _bfcl_node(v) for k, v in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        node["items"] = _bfcl_node(node["items"])
    return node


def bfcl_param_types(parameters: dict) -> dict[str, dict]:
    """BFCL's original per-parameter spec (type names before conversion), for the answer converter."""
    props = parameters.get("properties", {}) if isinstance(parameters, dict) else {}
    return {k: v for k, v in props.items() if isinstance(v, dict)}


# -- loose specs (NESTFUL) ----------------------------------------------------------------------
_LOOSE_TYPES = {
    "string": "string",
    "str": "string",
    "text": "string",
    "number": "number",
    "float": "number",
    "double": "number",
    "integer": "integer",
    "int": "integer",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "object": "object",
    "dict": "object",
    "enum": "string",
    "file": "string",
}


def loose_type(raw: Any) -> tuple[str, str | None]:
    """(JSON type, format) of a loosely written type name; unknown names are strings.

    NESTFUL v2 writes unions and element types in words: "int or float" is a number, "list of
    float" an array (its items: `loose_items`), "str or None" a string."""
    if not isinstance(raw, str) or not raw.strip():
        return "string", None
    low = raw.strip().lower()
    if low.startswith("date"):
        return "string", "date"
    if _LIST_OF.match(low):
        return "array", None
    alts = [a.strip() for a in re.split(r"\s+or\s+|\s*\|\s*|\s*,\s*", low) if a.strip()]
    alts = [a for a in alts if a not in ("none", "null", "optional")] or ["string"]
    kinds = {_LOOSE_TYPES.get(a, "array" if _LIST_OF.match(a) else "string") for a in alts}
    if kinds <= {"integer", "number"}:
        return ("integer" if kinds == {"integer"} else "number"), None
    if len(kinds) == 1:
        return kinds.pop(), None
    return "string", None


_LIST_OF = re.compile(r"^(?:list|array|tuple|sequence)\s*(?:of\s+|\[)\s*([a-z ]+?)\s*\]?$")


def loose_items(raw: Any) -> dict | None:
    """Item schema of "list of float" / "list[int]"; None when the type names no element type."""
    m = _LIST_OF.match(raw.strip().lower()) if isinstance(raw, str) else None
    if not m:
        return None
    elem = m.group(1)
    if elem.endswith("s") and elem[:-1] in _LOOSE_TYPES:
        elem = elem[:-1]  # "list of strings"
    return {"type": loose_type(elem)[0]}


def loose_param(spec: Any) -> tuple[dict, bool]:
    """One loosely specified parameter -> (JSON schema, required)."""
    if not isinstance(spec, dict):
        return {"type": "string", "description": str(spec)}, False
    typ, fmt = loose_type(spec.get("type"))
    out: dict[str, Any] = {"type": typ}
    if fmt:
        out["format"] = fmt
    if spec.get("description"):
        out["description"] = str(spec["description"])
    enum = spec.get("enum") or spec.get("allowed_values") or spec.get("possible_values")
    if isinstance(enum, list) and enum and typ in ("string", "integer", "number"):
        out["enum"] = enum
    for key in ("default", "default_value"):
        if key in spec and spec[key] is not None:
            out["default"] = spec[key]
            break
    if typ == "array":
        items = spec.get("items")
        out["items"] = (
            loose_param(items)[0] if isinstance(items, dict) else (loose_items(spec.get("type")) or {})
        )
    if typ == "object" and isinstance(spec.get("properties"), dict):
        out["properties"] = {k: loose_param(v)[0] for k, v in spec["properties"].items()}
    required = spec.get("required")
    if isinstance(required, str):
        required = required.strip().lower() in ("true", "yes", "1")
    if "optional" in spec and required is None:
        required = not bool(spec["optional"])
    return out, bool(required)


def loose_schema(params: Any) -> dict:
    """A mapping of loosely specified parameters -> JSON schema of the arguments object.

    Already-JSON-schema objects (`{"type": "object", "properties": ...}`) pass through.
    """
    if (
        isinstance(params, dict)
        and params.get("type") == "object"
        and isinstance(params.get("properties"), dict)
    ):
        return copy.deepcopy(params)
    props: dict[str, dict] = {}
    required: list[str] = []
    if isinstance(params, dict):
        for name, spec in params.items():
            props[name], req = loose_param(spec)
            if req:
                required.append(name)
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def infer_schema(value: Any) -> dict:
    """Schema of a parameter only known from a value (an argument a spec forgot)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, list):
        return {"type": "array"}
    if isinstance(value, dict):
        return {"type": "object"}
    return {"type": "string"}
