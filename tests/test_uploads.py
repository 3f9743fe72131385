"""One upload check everywhere: size, declared type, the real bytes, and images that open."""

import io
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from governance.uploads import DOCX, PDF, PHOTO_TYPES, check_upload, max_upload_bytes
from grids.events.models import EventAttachment

from .test_events_api import URL, as_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_with_bad_checksum() -> bytes:
    """A PNG whose IHDR chunk CRC is wrong: Pillow's verify() raises SyntaxError on it."""
    data = bytearray(png_bytes())
    crc_at = 8 + 4 + 4 + 13  # signature, length, type, IHDR data
    bad = (zlib.crc32(bytes(data[12:29])) ^ 0xFFFFFFFF) & 0xFFFFFFFF
    data[crc_at : crc_at + 4] = bad.to_bytes(4, "big")
    return bytes(data)


def docx_bytes(*, with_document: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        if with_document:
            package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def reason(name: str, content: bytes, content_type: str, **kwargs) -> str | None:
    try:
        check_upload(SimpleUploadedFile(name, content, content_type=content_type), **kwargs)
    except ValidationError as exc:
        return exc.messages[0]
    return None


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("照片.png", png_bytes(), "image/png"),
        ("材料.pdf", b"%PDF-1.7\n%...", PDF),
        ("报告.docx", docx_bytes(), DOCX),
        ("报告.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "application/msword"),
    ],
)
def test_genuine_photos_pdfs_and_word_files_pass(name, content, content_type):
    assert reason(name, content, content_type) is None


@pytest.mark.parametrize(
    ("name", "content", "content_type", "expected"),
    [
        ("坏图.png", png_with_bad_checksum(), "image/png", "照片文件已损坏或不是图片。"),
        ("假图.jpg", b"\xff\xd8\xffnot really a jpeg", "image/jpeg", "照片文件已损坏或不是图片。"),
        ("程序.pdf", b"MZ\x90\x00\x03\x00\x00\x00", PDF, "文件不是有效的PDF。"),
        ("假文档.docx", docx_bytes(with_document=False), DOCX, "文件不是有效的Word文档。"),
        ("压缩包.docx", b"PK\x03\x04broken", DOCX, "文件不是有效的Word文档。"),
        ("脚本.txt", b"echo", "text/plain", "只能上传照片（JPG、PNG、WEBP）或PDF、Word文件。"),
    ],
)
def test_a_file_whose_bytes_are_not_what_it_claims_is_refused(name, content, content_type, expected):
    assert reason(name, content, content_type) == expected


def test_size_and_photo_only_fields_have_their_own_messages(settings):
    assert reason("大图.png", png_bytes() + b"\0" * max_upload_bytes(), "image/png") == "单个文件不能超过10MB。"
    settings.UPLOAD_MAX_MB = 1
    assert reason("图.png", png_bytes() + b"\0" * 1024 * 1024, "image/png") == "单个文件不能超过1MB。"
    assert reason("材料.pdf", b"%PDF-1.7", PDF, allowed=PHOTO_TYPES) == "请上传JPG、PNG或WEBP格式的照片。"
    with translation.override("en"):
        assert (
            reason("材料.pdf", b"%PDF-1.7", PDF, allowed=PHOTO_TYPES)
            == "Please upload a photo in JPG, PNG or WEBP format."
        )


def test_a_corrupt_png_through_the_api_is_a_field_error_not_a_500(api, world, file_event, media):
    event = file_event()
    response = as_user(api, world.worker_a).post(
        f"{URL}{event.pk}/attachments/",
        {"file": SimpleUploadedFile("坏图.png", png_with_bad_checksum(), content_type="image/png")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["file"] == ["照片文件已损坏或不是图片。"]
    assert not EventAttachment.objects.exists() and not any(media.rglob("*.*"))


def test_an_executable_posing_as_a_pdf_is_refused_as_an_event_file(api, world, file_event, media):
    event = file_event()
    response = as_user(api, world.worker_a).post(
        f"{URL}{event.pk}/attachments/",
        {"file": SimpleUploadedFile("程序.pdf", b"MZ\x90\x00" * 16, content_type=PDF)},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["fields"]["file"] == ["文件不是有效的PDF。"]
    assert not EventAttachment.objects.exists()
