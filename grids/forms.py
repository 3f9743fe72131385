from django import forms
from django.utils.translation import gettext_lazy as _

MAX_IMPORT_MB = 20  # a region file (CSV / GeoJSON) may be larger than an attachment
MAX_IMPORT_BYTES = MAX_IMPORT_MB * 1024 * 1024


class RegionImportForm(forms.Form):
    """Upload of a region file (the same CSV / GeoJSON formats as `import_regions`)."""

    file = forms.FileField(label=_("区划文件（CSV 或 GeoJSON）"))
    dry_run = forms.BooleanField(label=_("仅校验，不保存"), required=False, initial=True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".geojson", ".json")):
            raise forms.ValidationError(_("请上传 .csv、.geojson 或 .json 文件。"))
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("文件不能超过%(mb)sMB。") % {"mb": MAX_IMPORT_MB})
        return upload
