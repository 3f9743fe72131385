"""API views of the platform package: departments, users, audit trail, tokens."""

from django.contrib.auth import authenticate
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import audit
from governance.auth import locked_message
from governance.choices import AuditAction
from governance.filtersets import AuditLogFilterSet, DepartmentFilterSet, UserFilterSet
from governance.middleware import context_for
from governance.models import AuditLog, Department, User
from governance.ratelimit import LoginRateThrottle
from governance.services import user_unlock

from .base import ScopedModelViewSet, ScopedReadOnlyViewSet
from .serializers import AuditLogSerializer, DepartmentSerializer, TokenRequestSerializer, UserSerializer


class DepartmentViewSet(ScopedModelViewSet):
    """职能部门 of the caller's jurisdiction. Departments are deactivated, never deleted."""

    queryset = Department.objects.select_related("region")
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilterSet
    change_capability = "department.change"
    ordering_fields = ["name", "kind", "region__code"]


class UserViewSet(ScopedModelViewSet):
    """Accounts of the caller's jurisdiction (system administrators only). Deactivate, never delete."""

    queryset = User.objects.select_related("region", "department")
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    view_capability = "user.view"
    change_capability = "user.change"
    ordering_fields = ["username", "role", "last_login"]

    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        user = user_unlock(user=self.get_object())
        return Response(self.get_serializer(user).data)


class AuditLogViewSet(ScopedReadOnlyViewSet):
    """The audit trail of the caller's jurisdiction, newest first (read-only by construction)."""

    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilterSet
    view_capability = "audit.view"


class TokenView(APIView):
    """Exchange a username and password for an API token (systems and scripts).

    Subject to the same lockout as the login page, and to the same per-address rate limit
    (one counter for both, LOGIN_RATE_PER_MINUTE).
    """

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [LoginRateThrottle]

    @extend_schema(request=TokenRequestSerializer, responses={200: dict})
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        user = authenticate(request._request, username=username, password=serializer.validated_data["password"])
        if user is None:
            message = locked_message(username) or _("用户名或密码不正确。")
            return Response({"detail": message, "fields": {}}, status=status.HTTP_400_BAD_REQUEST)
        token, _created = Token.objects.get_or_create(user=user)
        audit.record(
            AuditAction.LOGIN,
            instance=user,
            region_code=user.region.code if user.region_id else "",
            changes={"via": "api-token"},
            context=context_for(request._request, user),
        )
        return Response({"token": token.key, "user": user.username, "role": user.role})


class CachedSchemaView(SpectacularAPIView):
    """/api/schema/: the OpenAPI document, generated once per process, version and language.

    Generating it walks every viewset and serializer (seconds), yet it changes only with the code,
    which a deployment restarts; it is public (SERVE_PUBLIC) and so the same for every caller.
    """

    _schemas: dict = {}

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, get_language())
        if key not in self._schemas:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            self._schemas[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=self._schemas[key],
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
