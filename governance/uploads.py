"""One check for every uploaded file: size, declared type, the bytes it really starts with,
and — for photos — that the image opens. Pages, API and services all call `check_upload` (forms
through `UploadField`, serializers through `UploadSerializerField`, services through
`check_upload_field`), so a file refused in one place is refused everywhere with the same
field-level message. The size limit is the one setting UPLOAD_MAX_MB."""

from __future__ import annotations

import io
import zipfile

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework import serializers

from .i18n import lazy_message

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
PDF = "application/pdf"
DOC = "application/msword"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PHOTO_TYPES = frozenset({JPEG, PNG, WEBP})
DOCUMENT_TYPES = frozenset({*PHOTO_TYPES, PDF, DOC, DOCX})

# What each type's bytes start with (WEBP: RIFF, 4 bytes of length, then WEBP).
_SIGNATURES = {
    JPEG: (b"\xff\xd8\xff",),
    PNG: (b"\x89PNG\r\n\x1a\n",),
    PDF: (b"%PDF-",),
    DOC: (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),  # OLE2 compound file
    DOCX: (b"PK\x03\x04",),  # a ZIP package, checked further below
}


def max_upload_bytes() -> int:
    return settings.UPLOAD_MAX_MB * 1024 * 1024


def check_upload(upload, *, allowed: frozenset[str] = DOCUMENT_TYPES) -> str:
    """Return the upload's checked content type, or raise ValidationError with one message
    (callers put it under their field). The file is left rewound."""
    content_type = (getattr(upload, "content_type", "") or "").lower()
    if upload.size > max_upload_bytes():
        raise ValidationError(_("单个文件不能超过%(mb)sMB。") % {"mb": settings.UPLOAD_MAX_MB}, code="too_large")
    if content_type not in allowed:
        if allowed <= PHOTO_TYPES:
            raise ValidationError(_("请上传JPG、PNG或WEBP格式的照片。"), code="type")
        raise ValidationError(_("只能上传照片（JPG、PNG、WEBP）或PDF、Word文件。"), code="type")
    try:
        genuine = _is_genuine(upload, content_type)
    finally:
        upload.seek(0)
    if not genuine:
        if content_type in PHOTO_TYPES:
            raise ValidationError(_("照片文件已损坏或不是图片。"), code="corrupt")
        if content_type == PDF:
            raise ValidationError(_("文件不是有效的PDF。"), code="corrupt")
        raise ValidationError(_("文件不是有效的Word文档。"), code="corrupt")
    return content_type


def check_upload_field(upload, *, field: str = "file", allowed: frozenset[str] = DOCUMENT_TYPES) -> str:
    """check_upload for services: the error is keyed by the form or API field."""
    try:
        return check_upload(upload, allowed=allowed)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


DOCUMENT_HELP = gettext_noop("照片（JPG、PNG、WEBP）或PDF、Word文件，不超过%(mb)sMB。")


def upload_help(message: str = DOCUMENT_HELP, **values):
    """A field's help text naming the size limit of the setting: `message` is a msgid (marked with
    gettext_noop) with %(mb)s and any other `values`; translated and filled in when shown."""
    return lazy_message(message, mb=lambda: settings.UPLOAD_MAX_MB, **values)


class UploadField(forms.FileField):
    """A form's file field that runs check_upload (documents by default, `allowed=PHOTO_TYPES`
    for photos only)."""

    def __init__(self, *, allowed: frozenset[str] = DOCUMENT_TYPES, **kwargs):
        self.allowed = allowed
        if allowed == DOCUMENT_TYPES:
            kwargs.setdefault("help_text", upload_help())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and upload is not initial:
            check_upload(upload, allowed=self.allowed)
        return upload


class UploadSerializerField(serializers.FileField):
    """A serializer's file field that runs check_upload; a refusal is the field's error."""

    def __init__(self, *, allowed: frozenset[str] = DOCUMENT_TYPES, **kwargs):
        self.allowed = allowed
        if allowed == DOCUMENT_TYPES:
            kwargs.setdefault("help_text", upload_help())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        upload = super().to_internal_value(data)
        try:
            check_upload(upload, allowed=self.allowed)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return upload


def _is_genuine(upload, content_type: str) -> bool:
    upload.seek(0)
    head = upload.read(16)
    if content_type == WEBP:
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP" and _image_opens(upload)
    if not head.startswith(_SIGNATURES[content_type]):
        return False
    if content_type in PHOTO_TYPES:
        return _image_opens(upload)
    if content_type == DOCX:
        return _is_word_package(upload)
    return True


def _image_opens(upload) -> bool:
    from PIL import Image

    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image.verify()
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError … for broken files
        return False
    return True


def _is_word_package(upload) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(io.BytesIO(upload.read())) as package:
            return "word/document.xml" in package.namelist()
    except zipfile.BadZipFile:
        return False
