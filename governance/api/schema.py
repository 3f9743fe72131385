"""The OpenAPI schema states every answer an operation can give, not only its success: the error
shape of governance.api.errors is documented once and attached to every operation for the codes
that any operation may return (validation, authentication, permission, jurisdiction 404 and an
invalid page, rate limits, a busy database)."""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a message, and the messages of each field at fault.",
    "properties": {
        "detail": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["detail", "fields"],
}

# Code → description. 404 is also the answer to an object outside the caller's jurisdiction.
COMMON_ERRORS = {
    "400": "字段错误 — the input is invalid (messages per field)",
    "401": "未登录或令牌无效 — not authenticated",
    "403": "无权执行该操作 — the role may not do this",
    "404": "不存在或不在管辖范围内 — not found, outside the jurisdiction, or an invalid page",
    "405": "不支持该方法 — the method is not allowed here",
    "409": "冲突 — the request conflicts with the record's current state",
    "415": "不支持的内容类型 — unsupported media type",
    "429": "请求过于频繁 — too many requests",
    "503": "系统繁忙，请稍后重试 — the database is busy or restarting (see Retry-After)",
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the common error answers."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in COMMON_ERRORS.items():
                responses.setdefault(code, {"description": description, "content": reference})
    return result
