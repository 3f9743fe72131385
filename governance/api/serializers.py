from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from governance.audit_guard import CONTENT_COLUMNS
from governance.models import AuditLog, Department, User
from governance.services import user_create

from .fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField, related_queryset

# A deadline clock as the API shows it (events' three clocks, a case's conclusion clock).
CLOCK_SCHEMA = {"type": "string", "enum": ["ok", "amber", "red", "done", "none"]}


class AllowedActionsMixin:
    """For a serializer with `allowed_actions = serializers.SerializerMethodField()`: the transitions
    the caller may take on the record now, as its declared machine (`transitions`) answers."""

    transitions = None  # a governance.transitions machine, set by the serializer

    def get_allowed_actions(self, obj) -> list[str]:
        request = self.context.get("request")
        return self.transitions.allowed_names(request.user if request else None, obj)


class DepartmentSerializer(serializers.ModelSerializer):
    region = ScopedSlugRelatedField(slug_field="code", queryset=related_queryset(Department, "region"))
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Department
        fields = ["id", "region", "region_name", "kind", "name", "is_active", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        """The model's rule (Department.clean) decides where a department may sit."""
        region = attrs.get("region", getattr(self.instance, "region", None))
        try:
            Department(region=region).clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class UserSerializer(serializers.ModelSerializer):
    region = ScopedSlugRelatedField(
        slug_field="code", queryset=related_queryset(User, "region"), allow_null=True, required=False
    )
    department = ScopedPrimaryKeyRelatedField(queryset=Department.objects.all(), allow_null=True, required=False)
    mediation_org = ScopedPrimaryKeyRelatedField(
        queryset=related_queryset(User, "mediation_org"), allow_null=True, required=False
    )
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    is_locked = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "role",
            "region",
            "department",
            "mediation_org",
            "is_active",
            "password",
            "last_login",
            "is_locked",
        ]
        read_only_fields = ["last_login"]

    def validate(self, attrs):
        instance = self.instance or User()
        for name, value in attrs.items():
            if name != "password":
                setattr(instance, name, value)
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": [_("新建用户必须设置密码。")]})
        try:
            instance.clean()
            if attrs.get("password"):
                validate_password(attrs["password"], instance)
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise serializers.ValidationError(exc.message_dict) from exc
            raise serializers.ValidationError({"password": exc.messages}) from exc
        return attrs

    def create(self, validated_data):
        return user_create(**validated_data)

    def update(self, instance, validated_data):
        password = validated_data.pop("password", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if password:
            instance.set_password(password)
        instance.save()
        return instance


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = [
            *CONTENT_COLUMNS,  # what the entry says, then its place in the chain
            "chain_seq",
            "hash",
        ]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
