"""One JSON shape for every API error: {"detail": message, "fields": {field: [messages]}}."""

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        if isinstance(data, dict):
            fields = flatten_fields({key: value for key, value in data.items() if key != "non_field_errors"})
            general = data.get("non_field_errors")
        else:
            fields, general = {}, data
        detail = " ".join(str(m) for m in general) if general else _("提交的数据有误，请按字段提示修改。")
        response.data = {"detail": detail, "fields": fields}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": response.data["detail"], "fields": {}}
    return response


def flatten_fields(errors: dict) -> dict[str, list[str]]:
    """Nested errors (a list item's, a nested object's) as flat keys, `items[0]`, `parties[1].phone`,
    so that `fields` is always {name: [messages]} as the schema documents."""
    flat: dict[str, list[str]] = {}

    def walk(name: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "non_field_errors":  # the nested object's own errors belong to its field
                    walk(name, inner)
                else:
                    walk(f"{name}[{key}]" if str(key).isdigit() else f"{name}.{key}", inner)
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            for index, inner in enumerate(value):
                if inner:
                    walk(f"{name}[{index}]", inner)
        elif isinstance(value, list):
            flat.setdefault(name, []).extend(str(message) for message in value)
        else:
            flat.setdefault(name, []).append(str(value))

    for key, value in errors.items():
        walk(str(key), value)
    return flat
