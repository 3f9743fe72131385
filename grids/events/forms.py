"""Forms of the event pages: filing (grid worker), visit log, the transition forms of the
event page, and the public report (随手拍). Labels and messages are Chinese msgids."""

from __future__ import annotations

import uuid

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from governance.choices import Role
from governance.codes import Level
from governance.models import Department
from governance.uploads import PHOTO_TYPES, check_upload, upload_help
from grids.events.choices import EventSource, Feedback, Urgency
from grids.events.conversion import conversion
from grids.events.models import EventCategory, GridEvent, VisitRecord
from grids.events.selectors import dispatch_departments
from grids.models import Region

MAX_PHOTOS = 9
mobile_validator = RegexValidator(r"^1[3-9]\d{9}$", _("请输入11位手机号码（1开头，第二位为3至9）。"))

MAX_VISITED_PER_RECORD = 1000  # a plausibility bound on one visit record, not a SPEC rule


class EventFormMixin:
    """Chinese forms: no label suffix, required labels marked, errors as plain paragraphs."""

    required_css_class = "required"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


# --- Photos ------------------------------------------------------------------------------------


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one <input type=file multiple accept=image/* capture=environment>."""

    def __init__(self, *args, max_files: int = MAX_PHOTOS, capture: bool = True, **kwargs):
        attrs = {"accept": "image/*", "multiple": True}
        if capture:
            attrs["capture"] = "environment"
        kwargs.setdefault("widget", MultiplePhotoInput(attrs=attrs))
        kwargs.setdefault("required", False)
        self.max_files = max_files
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(_("请至少选择一张照片。"), code="required")
            return []
        if len(files) > self.max_files:
            raise forms.ValidationError(_("最多上传%(n)s张照片。") % {"n": self.max_files}, code="too_many")
        cleaned = [super(PhotosField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            try:
                check_upload(upload, allowed=PHOTO_TYPES)
            except forms.ValidationError as exc:
                reason = exc.messages[0]
                raise forms.ValidationError(
                    _("“%(name)s”：%(reason)s") % {"name": upload.name, "reason": reason}, code=exc.code
                ) from exc
        return cleaned


# --- Categories ------------------------------------------------------------------------------


def category_choices(categories: list[EventCategory], *, value=lambda c: c.pk, parent_label=None) -> list:
    """Grouped choices: one <optgroup> per top-level category with children (the parent itself
    listed last, as "…（其他）" or `parent_label`), then the top-level categories without children."""
    children: dict[int, list[EventCategory]] = {}
    for category in categories:
        if category.parent_id:
            children.setdefault(category.parent_id, []).append(category)
    grouped, singles = [], []
    for category in categories:
        if category.parent_id:
            continue
        subs = children.get(category.pk, [])
        if subs:
            options = [(value(c), c.name) for c in subs]
            label = (parent_label or _("%(name)s（其他）")) % {"name": category.name}
            options.append((value(category), label))
            grouped.append((category.name, options))
        else:
            singles.append((value(category), category.name))
    if singles:
        grouped.append((_("其他类别"), singles))
    return grouped


def active_categories() -> list[EventCategory]:
    return list(EventCategory.objects.filter(is_active=True).order_by("sort_order", "code"))


class CategoryField(forms.TypedChoiceField):
    """A two-level category select; cleans to the EventCategory (no extra query)."""

    def __init__(self, categories: list[EventCategory], **kwargs):
        self.by_pk = {str(c.pk): c for c in categories}
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"].setdefault("required", _("请选择事件类别。"))
        kwargs["error_messages"].setdefault("invalid_choice", _("请选择有效的事件类别。"))
        super().__init__(choices=[("", _("请选择类别")), *category_choices(categories)], **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.by_pk.get(str(value)) if value not in (None, "") else None


# --- Filing ----------------------------------------------------------------------------------


def grids_of(user):
    return Region.objects.restrict(user).filter(level=Level.GRID).order_by("code")


def source_choices(user) -> list[tuple[str, str]]:
    sources = [EventSource.PATROL, EventSource.VISIT]
    if user.is_superuser or user.role == Role.CENTRE_STAFF:
        sources += [EventSource.HOTLINE, EventSource.DEPARTMENT]
    elif user.role == Role.DEPARTMENT_HANDLER:
        sources = [EventSource.DEPARTMENT, EventSource.PATROL]
    return [(s.value, s.label) for s in sources]


class EventFileForm(EventFormMixin, forms.Form):
    """网格员上报事件 (phone-sized). `client_uuid` makes re-sending the same form harmless."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    grid = forms.ModelChoiceField(
        queryset=Region.objects.none(),
        label=_("所在网格"),
        empty_label=_("请选择网格"),
        error_messages={"required": _("请选择事件所在的网格。"), "invalid_choice": _("请选择您负责的网格。")},
    )
    title = forms.CharField(
        label=_("标题"),
        max_length=100,
        error_messages={"required": _("请填写标题。"), "max_length": _("标题最多100个字。")},
        widget=forms.TextInput(attrs={"placeholder": _("一句话概括，例如：小区消防通道被占用")}),
    )
    description = forms.CharField(
        label=_("情况描述"),
        max_length=4000,
        error_messages={"required": _("请描述事件情况。"), "max_length": _("描述最多4000个字。")},
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": _("时间、地点、人员、经过及现场情况")}),
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL, widget=forms.RadioSelect
    )
    source = forms.ChoiceField(label=_("发现方式"), choices=(), widget=forms.RadioSelect)
    address = forms.CharField(
        label=_("详细地址"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("街路巷、小区、楼栋或明显参照物")}),
    )
    lat = forms.FloatField(
        label=_("纬度"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        error_messages={"invalid": _("纬度应为数字。")},
    )
    lng = forms.FloatField(
        label=_("经度"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        error_messages={"invalid": _("经度应为数字。")},
    )
    photos = PhotosField(
        label=_("现场照片"),
        help_text=upload_help(gettext_noop("可拍照或选择多张，每张不超过%(mb)sMB，最多%(n)s张。"), n=MAX_PHOTOS),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["grid"].queryset = grids_of(user)
        self.fields["category"] = CategoryField(active_categories(), label=_("事件类别"))
        self.order_fields(["client_uuid", "grid", "category"])
        self.fields["source"].choices = source_choices(user)
        self.fields["source"].initial = self.fields["source"].choices[0][0]
        if not self.is_bound:
            self.fields["client_uuid"].initial = uuid.uuid4()
            grids = list(self.fields["grid"].queryset[:2])
            if len(grids) == 1:
                self.fields["grid"].initial = grids[0].pk

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("lat") is None) != (cleaned.get("lng") is None):
            raise forms.ValidationError(_("经纬度需同时填写，或都不填。"), code="partial_location")
        return cleaned


# --- Visit log -------------------------------------------------------------------------------


class VisitForm(EventFormMixin, forms.ModelForm):
    class Meta:
        model = VisitRecord
        fields = ["grid", "date", "households_visited", "notes"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 4, "placeholder": _("走访对象、发现的问题、群众诉求等")}),
            "households_visited": forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 1000}),
        }
        error_messages = {
            "grid": {"required": _("请选择网格。"), "invalid_choice": _("请选择您负责的网格。")},
            "date": {"required": _("请填写走访日期。"), "invalid": _("请输入有效日期，例如2025-03-01。")},
            "households_visited": {"required": _("请填写走访户数。"), "invalid": _("走访户数应为整数。")},
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["grid"].queryset = grids_of(user)
        self.fields["grid"].empty_label = _("请选择网格")
        self.fields["households_visited"].min_value = 1
        self.fields["households_visited"].validators = []
        if not self.is_bound:
            self.fields["date"].initial = timezone.localdate()
            grids = list(self.fields["grid"].queryset[:2])
            if len(grids) == 1:
                self.fields["grid"].initial = grids[0].pk

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError(_("走访日期不能晚于今天。"))
        return date

    def clean_households_visited(self):
        value = self.cleaned_data["households_visited"]
        if value < 1:
            raise forms.ValidationError(_("走访户数至少为1。"))
        if value > MAX_VISITED_PER_RECORD:
            raise forms.ValidationError(_("走访户数不能超过%(n)s。") % {"n": MAX_VISITED_PER_RECORD})
        return value

    def clean(self):
        cleaned = super().clean()
        grid, date = cleaned.get("grid"), cleaned.get("date")
        if grid and date and VisitRecord.objects.filter(worker=self.user, grid=grid, date=date).exists():
            self.add_error("date", _("您已记录过该网格这一天的走访，每个网格每天一条。"))
        return cleaned

    def validate_unique(self):
        """The worker is not a form field; uniqueness is checked in clean()."""


# --- Transitions on the event page -------------------------------------------------------------


class TransitionForm(EventFormMixin, forms.Form):
    """A transition's input; `kwargs()` gives the service's keyword arguments."""

    note = forms.CharField(
        label=_("说明（选填）"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    photo_stage = ""

    def __init__(self, *args, event: GridEvent, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.event, self.user = event, user

    def kwargs(self) -> dict:
        return {"note": self.cleaned_data.get("note", "")}

    def photos(self) -> list:
        return self.cleaned_data.get("photos", []) if self.photo_stage else []


class ReasonForm(TransitionForm):
    note = None
    reason = forms.CharField(
        label=_("理由"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写理由。"), "max_length": _("理由最多200个字。")},
    )

    def kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class DispatchForm(TransitionForm):
    lead = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        label=_("牵头部门"),
        empty_label=_("请选择牵头部门"),
        error_messages={"required": _("请选择牵头部门。"), "invalid_choice": _("请选择辖区内的部门。")},
    )
    collaborators = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(),
        label=_("协办部门（可多选）"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("请选择辖区内的部门。")},
    )

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is None:
            departments = (
                dispatch_departments(event=self.event, user=self.user)
                .select_related("region")
                .order_by("-region__code", "kind", "name")  # the event's own level first
            )
        self.fields["lead"].queryset = departments
        self.fields["collaborators"].queryset = departments
        label = lambda d: f"{d.name}（{d.region.name}）"  # noqa: E731
        self.fields["lead"].label_from_instance = label
        self.fields["collaborators"].label_from_instance = label
        self.order_fields(["lead", "collaborators", "note"])
        if not self.is_bound:
            default = default_department(self.event, self.user, list(departments))
            if default is not None:
                self.fields["lead"].initial = default.pk

    def clean(self):
        cleaned = super().clean()
        lead, collaborators = cleaned.get("lead"), cleaned.get("collaborators")
        if lead and collaborators and lead in collaborators:
            cleaned["collaborators"] = [d for d in collaborators if d.pk != lead.pk]
        return cleaned

    def kwargs(self) -> dict:
        data = self.cleaned_data
        return {"lead": data["lead"], "collaborators": list(data.get("collaborators") or []), "note": data["note"]}


def default_department(event: GridEvent, user, departments: list[Department]) -> Department | None:
    """The category's default department kind at the level holding the event (or the user's)."""
    kind = event.category.department_kind
    if not kind:
        return None
    codes = [event.handling_region_code()]
    if user.region_id:
        codes.append(user.region.code)
    for code in codes:
        for department in departments:
            if department.kind == kind and department.region.code == code:
                return department
    matching = [d for d in departments if d.kind == kind]
    return matching[0] if len(matching) == 1 else None


class ResolveForm(TransitionForm):
    note = None
    resolution = forms.CharField(
        label=_("办理结果"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写办理结果。")},
    )
    photos = PhotosField(label=_("办结照片（选填）"), capture=False)
    photo_stage = "resolution"

    def kwargs(self) -> dict:
        return {"resolution": self.cleaned_data["resolution"]}


class VerifyForm(TransitionForm):
    photos = PhotosField(label=_("核查照片（选填）"), capture=False)
    photo_stage = "verification"


class FeedbackForm(TransitionForm):
    feedback = forms.ChoiceField(
        label=_("回访评价"),
        choices=Feedback.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择回访评价。")},
    )
    note = forms.CharField(
        label=_("回访记录"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def kwargs(self) -> dict:
        return {"feedback": self.cleaned_data["feedback"], "note": self.cleaned_data["note"]}


class MergeForm(TransitionForm):
    note = None
    into = forms.IntegerField(
        label=_("合并到事件编号"),
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": _("请填写要合并到的事件编号。"), "invalid": _("事件编号应为数字。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.event.duplicate_of_id:
            self.fields["into"].initial = self.event.duplicate_of_id

    def clean_into(self):
        pk = self.cleaned_data["into"]
        target = GridEvent.objects.restrict(self.user).filter(pk=pk).first()
        if target is None:
            raise forms.ValidationError(_("事件#%(pk)s不存在或不在您的管辖范围内。") % {"pk": pk})
        if target.pk == self.event.pk:
            raise forms.ValidationError(_("不能与自身合并。"))
        return target

    def kwargs(self) -> dict:
        return {"into": self.cleaned_data["into"]}


class ConvertForm(TransitionForm):
    """转矛盾纠纷: choose the mediation organisation and the dispute type of the new case (the fields
    come from the app that takes converted events, grids.events.conversion)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(conversion().form_fields(self.user))  # organisation, dispute_type
        self.order_fields(["organisation", "dispute_type", "note"])

    def kwargs(self) -> dict:
        data = self.cleaned_data
        return {"organisation": data["organisation"], "dispute_type": data["dispute_type"], "note": data["note"]}


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "accept": TransitionForm,
    "return": ReasonForm,
    "self_handle": TransitionForm,
    "dispatch": DispatchForm,
    "department_accept": TransitionForm,
    "department_return": ReasonForm,
    "escalate": ReasonForm,
    "resolve": ResolveForm,
    "verify": VerifyForm,
    "reopen": ReasonForm,
    "feedback": FeedbackForm,
    "close": TransitionForm,
    "merge": MergeForm,
    "convert": ConvertForm,
}


def transition_form(name: str, *args, event: GridEvent, user, **kwargs) -> TransitionForm:
    return TRANSITION_FORMS[name](*args, event=event, user=user, prefix=name, **kwargs)


# --- Public report (随手拍) -------------------------------------------------------------------


class PublicReportForm(EventFormMixin, forms.Form):
    """随手拍: county → township → village (codes as values, so the page can cascade them
    through children.json), a top-level category, the description, optional photo, phone
    and location. Without JavaScript the page steps through the three selects."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    county = forms.ModelChoiceField(
        queryset=Region.objects.none(), to_field_name="code", required=False, label=_("县（区）"),
        empty_label=_("请选择县（区）"),
    )  # fmt: skip
    township = forms.ModelChoiceField(
        queryset=Region.objects.none(), to_field_name="code", required=False, label=_("乡镇（街道）"),
        empty_label=_("请选择乡镇（街道）"),
    )  # fmt: skip
    village = forms.ModelChoiceField(
        queryset=Region.objects.none(),
        to_field_name="code",
        label=_("村（社区）"),
        empty_label=_("请选择村（社区）"),
        error_messages={"required": _("请选择问题所在的村（社区）。"), "invalid_choice": _("请选择有效的村（社区）。")},
    )
    description = forms.CharField(
        label=_("问题描述"),
        max_length=2000,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": _("请说明发生了什么、在哪里、从什么时候开始")}),
        error_messages={
            "required": _("请描述您要反映的问题。"),
            "min_length": _("请至少写5个字，说明问题情况。"),
            "max_length": _("描述最多2000个字。"),
        },
    )
    address = forms.CharField(
        label=_("具体位置（选填）"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("街路巷、小区、楼栋或明显参照物")}),
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    photo = forms.ImageField(
        label=_("照片（选填）"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*"}),
        error_messages={"invalid_image": _("请上传有效的照片（JPG、PNG或WEBP）。")},
    )
    phone = forms.CharField(
        label=_("联系电话（选填）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "maxlength": 13}),
        help_text=_("仅用于工作人员回访，不会公开。"),
    )

    def __init__(self, *args, county_code: str = "", township_code: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        categories = list(
            EventCategory.objects.filter(is_active=True, parent__isnull=True).order_by("sort_order", "code")
        )
        self.fields["category"] = CategoryField(categories, label=_("问题类别"))
        self.order_fields(["client_uuid", "county", "township", "village", "category", "description"])
        regions = Region.objects.order_by("code")
        self.fields["county"].queryset = regions.filter(level=Level.COUNTY)
        self.fields["township"].queryset = regions.filter(level=Level.TOWNSHIP, parent__code=county_code or "-")
        self.fields["village"].queryset = regions.filter(level=Level.VILLAGE, parent__code=township_code or "-")
        if not self.is_bound:
            self.fields["client_uuid"].initial = uuid.uuid4()

    def clean_phone(self):
        phone = "".join((self.cleaned_data.get("phone") or "").split()).replace("-", "")
        if phone:
            mobile_validator(phone)
        return phone

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo:
            check_upload(photo, allowed=PHOTO_TYPES)
        return photo


class PublicStatusForm(forms.Form):
    """随手拍 follow-up: the report's number and the last four digits of the phone left with it."""

    number = forms.IntegerField(
        label=_("事件编号"),
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": _("请填写事件编号。"),
            "invalid": _("事件编号为数字。"),
            "min_value": _("事件编号为数字。"),
        },
    )
    phone_last4 = forms.CharField(
        label=_("手机号码后四位"),
        validators=[RegexValidator(r"^\d{4}$", _("请填写提交时所留手机号码的后四位数字。"))],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 4, "autocomplete": "off"}),
        error_messages={"required": _("请填写手机号码后四位。")},
    )
