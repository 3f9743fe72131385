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
            fields = {key: value for key, value in data.items() if key != "non_field_errors"}
            general = data.get("non_field_errors")
        else:
            fields, general = {}, data
        detail = " ".join(str(m) for m in general) if general else _("提交的数据有误，请按字段提示修改。")
        response.data = {"detail": detail, "fields": fields}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": response.data["detail"], "fields": {}}
    return response
