from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

# Uploads are spooled to a temporary file by Django and moved into MEDIA_ROOT, then imported by the
# worker, so the size is limited by disk and upload time, not memory. Larger files go through
# `manage.py import_records`. The reverse proxy's body limit and gunicorn's timeout must allow as much.
MAX_UPLOAD_BYTES = 2 * 1024**3


class ImportForm(forms.Form):
    file = forms.FileField(label=_("数据文件（JSON Lines）"))
    dry_run = forms.BooleanField(label=_("仅校验，不保存"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件超过%(limit)s，请由运维人员使用import_records命令导入。"),
                params={"limit": filesizeformat(MAX_UPLOAD_BYTES)},
            )
        return upload


class ExportForm(forms.Form):
    code = forms.CharField(label=_("区划代码"), max_length=15)
    start = forms.DateField(label=_("开始日期"))
    end = forms.DateField(label=_("结束日期"))
