"""Region import (CSV and GeoJSON): idempotent, per-row report, jurisdiction; exports round-trip."""

import io
import json

import pytest
from django.core.management import call_command

from grids import services
from grids.models import Region

pytestmark = pytest.mark.django_db

HEADER = "code,name,level,parent_code,terrain,urban,population,households,area_km2,lat,lng,grid_type,parttime_workers,building_heads\n"
GOOD = (
    "620102002,新城街道,township,620102,plain,城镇,30000,10000,,,,,0,0\n"
    "620102002001,新城社区,village,,plain,1,3000,1000,,,,,0,0\n"
    "620102002001001,新城社区第1网格,grid,620102002001,plain,1,600,250,0.3,36.06,103.83,comprehensive,1,8\n"
)


def run(text: str, **kwargs) -> services.ImportReport:
    return services.import_regions(rows=services.read_csv(io.StringIO(text)), **kwargs)


def test_it_creates_regions_in_any_row_order(world):
    reversed_rows = "".join(reversed(GOOD.splitlines(keepends=True)))
    report = run(HEADER + reversed_rows)
    assert report.summary == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    grid = Region.objects.get(code="620102002001001")
    assert grid.parent.code == "620102002001" and grid.is_urban and grid.area_km2 == 0.3 and grid.building_heads == 8


def test_importing_the_same_file_twice_changes_nothing(world):
    run(HEADER + GOOD)
    report = run(HEADER + GOOD)
    assert report.summary == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0}


def test_a_changed_row_is_updated_and_audited(world):
    from governance.models import AuditLog

    run(HEADER + GOOD)
    report = run(HEADER + GOOD.replace("30000,10000", "31000,10000"))
    assert report.summary["updated"] == 1 and report.summary["unchanged"] == 2
    township = Region.objects.get(code="620102002")
    entry = AuditLog.objects.filter(model="grids.region", object_id=str(township.pk), action="update").get()
    assert entry.changes == {"population": [30000, 31000]}


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("62010200x,坏代码,township,620102,plain,0,0,0,,,,,0,0\n", "code"),
        ("6201020021,十位码,,620102,plain,0,0,0,,,,,0,0\n", "code"),
        ("620102003,层级错,village,620102,plain,0,0,0,,,,,0,0\n", "level"),
        ("620102003,无上级,township,620199,plain,0,0,0,,,,,0,0\n", "parent_code"),
        ("620102003,,township,620102,plain,0,0,0,,,,,0,0\n", "name"),
        ("620102003,负户数,township,620102,plain,0,0,-5,,,,,0,0\n", "households"),
        ("620102003,地形错,township,620102,desert,0,0,0,,,,,0,0\n", "terrain"),
        ("620102003,类型错,township,620102,plain,0,0,0,,,,school,0,0\n", "grid_type"),
        ("620102003,面积错,township,620102,plain,0,0,0,abc,,,,0,0\n", "area_km2"),
    ],
)
def test_each_bad_row_is_rejected_with_its_reason(world, row, field):
    report = run(HEADER + row + GOOD)
    bad = report.rejected
    assert len(bad) == 1 and bad[0].line == 2 and field in bad[0].errors
    assert report.summary["created"] == 3  # the good rows still go in


def test_children_of_a_rejected_parent_are_rejected_too(world):
    report = run(HEADER + GOOD.replace("620102002,新城街道,township,620102", "620102002,,township,620102"))
    assert report.summary["rejected"] == 3
    assert "parent_code" in report.rows[1].errors


def test_an_importer_cannot_write_outside_their_jurisdiction(world):
    foreign = "620103002,外县镇,township,620103,plain,0,0,0,,,,,0,0\n"
    report = run(HEADER + GOOD + foreign, acting_user=world.user_a)
    assert report.summary == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "code" in report.rejected[0].errors
    assert not Region.objects.filter(code="620103002").exists()


def test_a_dry_run_keeps_nothing(world):
    report = run(HEADER + GOOD, dry_run=True)
    assert report.summary["created"] == 3
    assert not Region.objects.filter(code="620102002").exists()


def test_geojson_import_keeps_the_boundary_and_derives_a_centroid(world):
    square = [[[103.0, 36.0], [103.02, 36.0], [103.02, 36.02], [103.0, 36.02], [103.0, 36.0]]]
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "620102002", "name": "新城街道", "level": "乡镇", "terrain": "平原"},
                "geometry": {"type": "Polygon", "coordinates": square},
            }
        ],
    }
    report = services.import_regions(rows=services.read_geojson(io.StringIO(json.dumps(document))))
    assert report.summary["created"] == 1
    region = Region.objects.get(code="620102002")
    assert region.boundary["type"] == "Polygon"
    assert region.centroid_lng == pytest.approx(103.008, abs=0.01) and region.centroid_lat == pytest.approx(
        36.008, abs=0.01
    )


def test_an_export_imports_back_unchanged(world):
    exported = "".join(services.export_csv(Region.objects.under("62").order_by("code"))).lstrip("\ufeff")
    report = run(exported)
    assert report.summary == {"created": 0, "updated": 0, "unchanged": Region.objects.count(), "rejected": 0}


def test_a_geojson_export_imports_back_unchanged(world):
    exported = "".join(services.export_geojson(Region.objects.under("62").order_by("code")))
    report = services.import_regions(rows=services.read_geojson(io.StringIO(exported)))
    assert report.summary["unchanged"] == Region.objects.count()


def test_the_command_prints_a_report(world, tmp_path, capsys):
    path = tmp_path / "regions.csv"
    path.write_text(HEADER + GOOD + "bad,坏,,,,,,,,,,,,\n", encoding="utf-8")
    call_command("import_regions", str(path))
    out, err = capsys.readouterr()
    assert "created 3" in out and "rejected 1" in out
    assert "line 5" in err and "code" in err
    call_command("import_regions", str(path))
    assert "unchanged 3" in capsys.readouterr().out


def test_the_export_command_writes_the_subtree(world, capsys):
    call_command("export_regions", world.county_b.code)
    out = capsys.readouterr().out
    assert world.grid_b.code in out and world.grid_a.code not in out


# --- The upload page ---------------------------------------------------------------------


def upload(client, text: str | bytes, name: str = "regions.csv", dry_run: bool = False):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = text if isinstance(text, bytes) else text.encode("utf-8")
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return client.post("/regions/import/", data)


def test_the_upload_page_checks_without_saving_on_a_dry_run(client, world):
    client.force_login(world.user_a)
    response = upload(client, HEADER + GOOD, dry_run=True)
    assert response.status_code == 200 and "校验结果（未保存）" in response.content.decode()
    assert not Region.objects.filter(code="620102002").exists()


def test_the_upload_page_imports_and_reports_foreign_rows(client, world):
    client.force_login(world.user_a)
    foreign = "620103002,外县镇,township,620103,plain,0,0,0,,,,,0,0\n"
    response = upload(client, HEADER + GOOD + foreign)
    page = response.content.decode()
    assert Region.objects.filter(code="620102002001001").exists()
    assert not Region.objects.filter(code="620103002").exists()
    assert "该区划不在您的管辖范围内" in page and "620103002" in page


def test_the_upload_page_refuses_other_file_types_with_a_field_error(client, world):
    client.force_login(world.user_a)
    response = upload(client, "x", name="regions.xlsx")
    assert "请上传" in response.content.decode()


def test_the_upload_page_reports_an_unreadable_file(client, world):
    client.force_login(world.user_a)
    response = upload(client, "{not json", name="regions.geojson")
    html = response.content.decode()
    assert response.status_code == 200 and "文件格式有误，无法读取。" in html and "Expecting" not in html
    latin = upload(client, "code,name\n62,\xc1\xbc".encode("latin-1"), name="regions.csv")
    assert "文件不是UTF-8编码，无法读取。" in latin.content.decode() and "codec" not in latin.content.decode()


def test_grid_workers_cannot_import(client, world):
    client.force_login(world.worker_a)
    assert upload(client, HEADER + GOOD).status_code == 403
