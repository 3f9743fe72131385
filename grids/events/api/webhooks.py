"""/api/v1/webhooks/: a department system registers where dispatches and status changes go."""

import secrets

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.api.base import ScopedModelViewSet
from governance.api.fields import ScopedPrimaryKeyRelatedField
from governance.models import Department
from grids.events.models import Webhook, WebhookDelivery


class WebhookSerializer(serializers.ModelSerializer):
    department = ScopedPrimaryKeyRelatedField(queryset=Department.objects.filter(is_active=True))
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=100,
        help_text=_("不填则由平台生成，只在创建时返回一次。"),
    )

    class Meta:
        model = Webhook
        fields = ["id", "department", "url", "secret", "is_active", "created_at"]
        read_only_fields = ["created_at"]

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError(_("回调地址必须是 http 或 https 地址。"))
        return value

    def validate_department(self, department: Department) -> Department:
        user = self.context["request"].user
        if user.department_id and not user.is_superuser and department.pk != user.department_id:
            raise serializers.ValidationError(_("只能为本部门登记回调地址。"))
        return department

    def create(self, validated_data):
        generated = "secret" not in validated_data
        validated_data.setdefault("secret", secrets.token_urlsafe(32))
        webhook = super().create(validated_data)
        webhook._generated_secret = validated_data["secret"] if generated else None
        return webhook

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(instance, "_generated_secret", None):
            data["secret"] = instance._generated_secret  # shown once, at creation
        return data


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "key", "attempts", "delivered_at", "last_status", "last_error", "created_at", "payload"]


class WebhookViewSet(ScopedModelViewSet):
    """Callback URLs of the departments in the caller's jurisdiction (a department's own staff
    and systems see only their department's). Deactivate with is_active=false; no DELETE."""

    queryset = Webhook.objects.select_related("department").order_by("department_id", "pk")
    serializer_class = WebhookSerializer
    change_capability = "webhook.change"
    view_capability = "webhook.change"

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        if user.department_id and not user.is_superuser:
            queryset = queryset.filter(department_id=user.department_id)
        return queryset

    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The 50 latest deliveries with their attempts and last answer."""
        rows = self.get_object().deliveries.order_by("-created_at")[:50]
        return Response(DeliverySerializer(rows, many=True).data)
