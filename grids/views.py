"""Region browser: drill down from the user's region to the grids, with the sizing flags;
region file upload and download."""

import csv
import io
import logging

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from governance.codes import Level
from governance.scoping import ScopedQuerysetMixin
from grids import services
from grids.api.views import EXPORTS, export_response
from grids.choices import SizingFlag
from grids.forms import RegionImportForm
from grids.models import GridWorker, Region, sizing_conditions
from grids.selectors import child_summaries

logger = logging.getLogger(__name__)


@login_required
def region_root(request):
    """Start browsing at the user's own region (superusers at the first province)."""
    region = request.user.region or Region.objects.filter(level=Level.PROVINCE).order_by("code").first()
    if region is None:
        raise Http404
    return redirect("grids:region-detail", code=region.code)


class RegionDetailView(LoginRequiredMixin, ScopedQuerysetMixin, DetailView):
    model = Region
    slug_field = "code"
    slug_url_kwarg = "code"
    template_name = "grids/region_detail.html"
    context_object_name = "region"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        region: Region = self.object
        user = self.request.user
        visible = Region.objects.restrict(user)
        context["breadcrumbs"] = list(visible.filter(code__in=region.ancestors_codes()).order_by("code"))
        if region.is_grid:
            context["flags"] = [SizingFlag(flag).label for flag in region.sizing_flags()]
            context["workers"] = GridWorker.objects.restrict(user).filter(grid=region).order_by("-is_full_time", "name")
        else:
            children = list(visible.filter(parent=region).order_by("code"))
            summaries = child_summaries(region, user)
            for child in children:
                child.summary = summaries.get(child.code, {})
                if child.is_grid:
                    child.flags = [SizingFlag(flag).label for flag in child.sizing_flags()]
            context["children"] = children
            context["child_level"] = Level(region.level + 1).label
            context["flag_names"] = [(flag.value, flag.label) for flag in SizingFlag]
            flag = self.request.GET.get("flag")
            if flag in SizingFlag.values:
                context["flag"] = SizingFlag(flag)
                flagged = visible.under(region.code).grids().filter(sizing_conditions()[flag])
                context["flagged_page"] = Paginator(flagged.order_by("code"), 100).get_page(
                    self.request.GET.get("page")
                )
        context["export_kinds"] = list(EXPORTS)
        return context


@login_required
def region_import(request):
    """Upload a region file; every row is checked and reported, the caller's jurisdiction enforced."""
    if not request.user.can("region.import"):
        raise PermissionDenied
    report = None
    form = RegionImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
            reader = services.read_csv if upload.name.lower().endswith(".csv") else services.read_geojson
            report = services.import_regions(
                rows=reader(text), acting_user=request.user, dry_run=form.cleaned_data["dry_run"]
            )
        except UnicodeDecodeError:
            form.add_error("file", _("文件不是UTF-8编码，无法读取。请用UTF-8编码另存为CSV或GeoJSON后再上传。"))
        except (ValueError, csv.Error):  # Python's own message is English developer text: log it
            logger.info("Region import: unreadable file %s", upload.name, exc_info=True)
            form.add_error("file", _("文件格式有误，无法读取。请上传带表头的CSV文件或GeoJSON要素集合。"))
    return render(request, "grids/region_import.html", {"form": form, "report": report})


@login_required
def region_export(request, code: str, kind: str):
    if kind not in EXPORTS:
        raise Http404
    region = get_object_or_404(Region.objects.restrict(request.user), code=code)
    return export_response(request.user, region, kind)
