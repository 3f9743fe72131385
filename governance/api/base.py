"""The base viewset: jurisdiction scoping, audit context and the post-write visibility check."""

from collections.abc import Mapping

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation

from governance import audit
from governance.middleware import context_for

from .permissions import RoleCapability


class ScopedViewSetMixin:
    """Every queryset is `restrict`ed to the caller; a write must leave its row inside the
    caller's jurisdiction or it is rolled back and answered 404 (NetBox's pattern)."""

    permission_classes = [RoleCapability]
    change_capability: str | None = None
    view_capability: str | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # DRF authenticates tokens inside the view, after the middleware bound the context.
        self._audit_token = audit.set_context(context_for(request._request, request.user))
        if request.method in ("POST", "PUT", "PATCH") and not isinstance(request.data, Mapping):
            raise ValidationError({"non_field_errors": [_("请求体应为一个JSON对象（键值对）。")]})

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_audit_token", None)
        if token is not None:
            audit.reset_context(token)
            self._audit_token = None
        return super().finalize_response(request, response, *args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user)

    def _check_still_visible(self, instance) -> None:
        if not self.get_queryset().filter(pk=instance.pk).exists():
            raise Http404

    def perform_create(self, serializer):
        with transaction.atomic():
            instance = serializer.save()
            self._check_still_visible(instance)

    def perform_update(self, serializer):
        with transaction.atomic():
            instance = serializer.save()
            self._check_still_visible(instance)


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "patch", "put", "head", "options"]


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class PassthroughNegotiation(BaseContentNegotiation):
    """File downloads answer whatever the client accepts (the file has its own type)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def file_action(media_type: str = "application/octet-stream", **kwargs):
    """A GET action on one object that answers a file (a stored upload, a PDF) whatever the client
    accepts, documented as binary of `media_type`; `kwargs` go to DRF's @action (url_path, url_name)."""

    def decorate(view):
        view = action(detail=True, methods=["get"], content_negotiation_class=PassthroughNegotiation, **kwargs)(view)
        return extend_schema(responses={(200, media_type): OpenApiTypes.BINARY})(view)

    return decorate


class ListDetailMixin:
    """A viewset whose detail shows more than its list rows: `serializer_class` serves the list (and
    every other action), `detail_serializer_class` the detail, and `with_detail(queryset)` loads
    what only the detail reads."""

    detail_serializer_class = None

    def with_detail(self, queryset):
        return queryset

    def get_queryset(self):
        queryset = super().get_queryset()
        return self.with_detail(queryset) if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return self.detail_serializer_class
        return super().get_serializer_class()
