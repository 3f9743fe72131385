"""What the input viewsets share: writes through a service inside a transaction (its refusals as
{"detail", "fields"}, 403 for a user who may not act), evidence downloads, the detail actions
that make one step of an input's life, and the base viewset (reads need `assessment.inputs`; no
input is ever deleted over the API).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from governance.api.base import ScopedModelViewSet
from grids.events.api.views import drf_error

READ = "assessment.inputs"


def _run(write, *, check=None):
    """Call a service inside a transaction; its refusals become the API's field errors, and the
    written row must still be visible to the caller (else rolled back, 404)."""
    try:
        with transaction.atomic():
            result = write()
            if check is not None:
                check(result[0] if isinstance(result, tuple) else result)
            return result
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict") and getattr(exc, "code", None) == "not_allowed":
            raise PermissionDenied(" ".join(exc.messages)) from exc
        raise drf_error(exc) from exc


def _download(field_file):
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=field_file.name.rsplit("/", 1)[-1])
    response["X-Content-Type-Options"] = "nosniff"
    return response


class StepMixin:
    """Detail actions that make one step of an input's life through its service."""

    def _step(self, request, body_class, call):
        """A detail action: the object (scoped), its validated body, then `call(obj, data)` — a
        service step — inside _run; answers the object as it is now."""
        obj = self.get_object()
        data = {}
        if body_class is not None:
            body = body_class(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
        return Response(self.get_serializer(_run(lambda: call(obj, data))).data)


class InputViewSet(StepMixin, ScopedModelViewSet):
    """Reads need the `assessment.inputs` capability; no input is ever deleted over the API."""

    view_capability = READ
    http_method_names = ["get", "post", "head", "options"]
    action_capabilities: dict[str, str] = {}
    default_capability: str | None = None

    @property
    def change_capability(self) -> str | None:
        return self.action_capabilities.get(self.action, self.default_capability)

    def _visible(self, instance) -> None:
        self._check_still_visible(instance)

    # The service that creates the record from the validated data (user=..., **data), if the
    # generic create below applies.
    create_service = None

    def create(self, request, *args, **kwargs):
        if self.create_service is None:
            return super().create(request, *args, **kwargs)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        service = type(self).create_service
        record = _run(lambda: service(user=request.user, **data), check=self._visible)
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)
