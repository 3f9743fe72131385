"""Jurisdiction: users of sibling counties cannot see, list, guess, change or download each
other's records, through the API or the pages; a province user sees both."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.choices import DepartmentKind, Role
from governance.models import Department
from grids.models import Region

from .factories import DepartmentFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


# --- API: lists -------------------------------------------------------------------------


def test_a_county_user_lists_only_their_own_subtree(api, world):
    api.force_authenticate(world.user_a)
    listed = codes(api.get("/api/v1/regions/", {"page_size": 500}))
    assert world.grid_a.code in listed and world.county_a.code in listed
    assert not any(code.startswith(world.county_b.code) for code in listed)
    assert world.city.code not in listed and world.province.code not in listed


def test_a_province_user_sees_both_counties(api, world):
    api.force_authenticate(world.province_user)
    listed = codes(api.get("/api/v1/regions/", {"level": 3}))
    assert listed == {world.county_a.code, world.county_b.code}


def test_filtering_on_a_foreign_subtree_yields_nothing(api, world):
    api.force_authenticate(world.user_a)
    assert codes(api.get("/api/v1/regions/", {"under": world.county_b.code})) == set()


def test_departments_and_grid_workers_are_scoped(api, world):
    api.force_authenticate(world.user_a)
    departments = api.get("/api/v1/departments/").json()["results"]
    assert [d["name"] for d in departments] == [world.dept_a.name]
    workers = api.get("/api/v1/grid-workers/").json()["results"]
    assert {w["grid"] for w in workers} == {world.grid_a.code}


# --- API: guessing, changing, downloading ------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/regions/{county_b}/",
        "/api/v1/regions/{grid_b}/",
        "/api/v1/regions/{county_b}/export/",
        "/api/v1/departments/{dept_b}/",
    ],
)
def test_foreign_records_answer_404_not_403(api, world, path):
    api.force_authenticate(world.user_a)
    url = path.format(county_b=world.county_b.code, grid_b=world.grid_b.code, dept_b=world.dept_b.pk)
    assert api.get(url).status_code == 404


def test_a_foreign_record_cannot_be_changed(api, world):
    api.force_authenticate(world.user_a)
    response = api.patch(f"/api/v1/regions/{world.county_b.code}/", {"name": "篡改"}, format="json")
    assert response.status_code == 404
    response = api.patch(f"/api/v1/departments/{world.dept_b.pk}/", {"name": "篡改"}, format="json")
    assert response.status_code == 404
    world.county_b.refresh_from_db()
    world.dept_b.refresh_from_db()
    assert world.county_b.name == "七里河区" and world.dept_b.name == "七里河区公安分局"


def test_a_record_cannot_be_created_in_a_foreign_region(api, world):
    api.force_authenticate(world.user_a)
    response = api.post(
        "/api/v1/departments/",
        {"region": world.county_b.code, "kind": DepartmentKind.JUSTICE, "name": "司法局"},
        format="json",
    )
    assert response.status_code == 400
    assert "region" in response.json()["fields"]
    assert not world.county_b.departments.filter(name="司法局").exists()


def test_a_region_cannot_be_moved_out_of_the_jurisdiction(api, world):
    api.force_authenticate(world.user_a)
    response = api.post(
        "/api/v1/regions/",
        {"code": world.county_b.code + "009", "name": "新镇", "level": 4, "parent": world.county_b.code},
        format="json",
    )
    assert response.status_code == 400
    assert "parent" in response.json()["fields"]


def test_a_centre_user_may_add_a_township_in_their_county(api, world):
    api.force_authenticate(world.user_a)
    response = api.post(
        "/api/v1/regions/",
        {
            "code": world.county_a.code + "009",
            "name": "新镇",
            "level": 4,
            "parent": world.county_a.code,
            "terrain": "hill",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Region.objects.get(code="620102009").parent == world.county_a


def test_a_user_from_another_county_is_invisible_to_an_admin(api, world):
    api.force_authenticate(world.admin_a)
    usernames = {u["username"] for u in api.get("/api/v1/users/").json()["results"]}
    assert "centre_a" in usernames and "centre_b" not in usernames and "province" not in usernames
    assert api.get(f"/api/v1/users/{world.user_b.pk}/").status_code == 404
    assert api.patch(f"/api/v1/users/{world.user_b.pk}/", {"is_active": False}, format="json").status_code == 404
    world.user_b.refresh_from_db()
    assert world.user_b.is_active


def test_only_administrators_read_the_user_list(api, world):
    api.force_authenticate(world.user_a)
    assert api.get("/api/v1/users/").status_code == 403


def test_a_grid_worker_sees_only_their_grid(api, world):
    api.force_authenticate(world.worker_a)
    assert codes(api.get("/api/v1/regions/")) == {world.grid_a.code}
    assert api.get(f"/api/v1/regions/{world.grid_a2.code}/").status_code == 404


def test_a_grid_worker_may_not_edit_regions(api, world):
    api.force_authenticate(world.worker_a)
    response = api.patch(f"/api/v1/regions/{world.grid_a.code}/", {"name": "x"}, format="json")
    assert response.status_code == 403


def test_a_user_without_a_region_sees_nothing(api, world):
    stray = UserFactory(username="stray", role=Role.CENTRE_STAFF, region=None)
    api.force_authenticate(stray)
    assert api.get("/api/v1/regions/").json()["count"] == 0


def test_anonymous_callers_are_refused(api, world):
    assert api.get("/api/v1/regions/").status_code in (401, 403)


def test_tokens_carry_the_same_jurisdiction(api, world, password):
    response = api.post("/api/v1/auth/token/", {"username": "centre_b", "password": password}, format="json")
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"/api/v1/regions/{world.county_a.code}/").status_code == 404
    assert api.get(f"/api/v1/regions/{world.county_b.code}/").status_code == 200


# --- Pages and downloads --------------------------------------------------------------------


def test_pages_of_a_foreign_region_answer_404(client, world):
    client.force_login(world.user_a)
    assert client.get(f"/regions/{world.county_a.code}/").status_code == 200
    assert client.get(f"/regions/{world.county_b.code}/").status_code == 404
    assert client.get(f"/regions/{world.grid_b.code}/").status_code == 404
    assert client.get(f"/regions/{world.city.code}/").status_code == 404


def test_downloads_of_a_foreign_subtree_answer_404(client, world):
    client.force_login(world.user_a)
    assert client.get(f"/regions/{world.county_b.code}/export.csv").status_code == 404
    assert client.get(f"/regions/{world.county_b.code}/export.geojson").status_code == 404


def test_a_download_holds_only_the_callers_subtree(client, world):
    client.force_login(world.province_user)
    body = b"".join(client.get(f"/regions/{world.county_a.code}/export.csv").streaming_content).decode("utf-8-sig")
    assert world.grid_a.code in body and world.county_b.code not in body


def test_the_county_page_never_names_the_sibling(client, world):
    client.force_login(world.user_a)
    page = client.get(f"/regions/{world.county_a.code}/").content.decode()
    home = client.get("/").content.decode()
    assert "七里河区" not in page and "七里河区" not in home


def test_the_province_user_browses_both_counties(client, world):
    client.force_login(world.province_user)
    page = client.get(f"/regions/{world.city.code}/").content.decode()
    assert "城关区" in page and "七里河区" in page


def test_the_admin_refuses_staff_without_model_permissions(client, world):
    world.admin_a.is_staff = True
    world.admin_a.save()
    client.force_login(world.admin_a)
    assert client.get("/admin/grids/region/").status_code == 403


def _staff_with_view_permissions(user, *codenames):
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.mark.parametrize(
    ("url", "codename", "inside", "outside"),
    [
        ("/admin/grids/region/", "view_region", "grid_a", "grid_b"),
        ("/admin/governance/department/", "view_department", "dept_a", "dept_b"),
        ("/admin/governance/user/", "view_user", "user_a", "user_b"),
    ],
)
def test_the_admin_lists_only_the_jurisdiction(client, world, url, codename, inside, outside):
    """Staff allowed to read a model see their own county's rows; the other county's rows are absent from the
    list, from its search and its count, and their change page is not found."""
    client.force_login(_staff_with_view_permissions(world.admin_a, codename))
    own, foreign = getattr(world, inside), getattr(world, outside)
    listing = client.get(url, {"q": ""})
    assert listing.status_code == 200
    rows = list(listing.context["cl"].result_list)
    assert own in rows and foreign not in rows
    assert all(row in type(own).objects.restrict(world.admin_a) for row in rows)
    assert listing.context["cl"].result_count == type(own).objects.restrict(world.admin_a).count()
    searched = client.get(url, {"q": str(foreign.pk) if codename == "view_user" else getattr(foreign, "name", "")})
    assert foreign not in list(searched.context["cl"].result_list)
    change = client.get(f"{url}{foreign.pk}/change/")
    assert change.status_code == 302  # the admin's "does not exist" redirect, as for a deleted id
    assert client.get(f"{url}{own.pk}/change/").status_code == 200


def test_every_admin_of_a_scoped_model_is_scoped():
    """No admin page can list a jurisdiction-bound model without the restriction."""
    from django.contrib import admin

    from governance.admin import ScopedAdminMixin
    from governance.scoping import ScopedModel

    unscoped = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if issubclass(model, ScopedModel) and not isinstance(model_admin, ScopedAdminMixin)
    ]
    assert unscoped == []


# --- Query counts do not grow with depth ---------------------------------------------------


def _grow_county(county, townships: int) -> None:
    for t in range(2, 2 + townships):
        township = RegionFactory.child(county, t)
        village = RegionFactory.child(township, 1)
        for g in range(1, 4):
            RegionFactory.child(village, g, households=100)


def _count_queries(api, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["count"]


def test_listing_a_countys_grids_takes_a_fixed_number_of_queries(api, world):
    api.force_authenticate(world.province_user)
    url = f"/api/v1/regions/?under={world.county_a.code}&level=6&page_size=500"
    small, small_count = _count_queries(api, url)
    _grow_county(world.county_a, 6)
    large, large_count = _count_queries(api, url)
    from_province, _ = _count_queries(api, "/api/v1/regions/?level=6&page_size=500")
    assert large_count == small_count + 18
    assert small == large == from_province
    assert large <= 4  # session/auth lookups + count + page


def test_the_region_page_takes_a_fixed_number_of_queries(client, world):
    client.force_login(world.user_a)
    client.get(f"/regions/{world.county_a.code}/")  # warm the once-a-day caches (calendar warning)
    with CaptureQueriesContext(connection) as before:
        client.get(f"/regions/{world.county_a.code}/")
    _grow_county(world.county_a, 6)
    with CaptureQueriesContext(connection) as after:
        response = client.get(f"/regions/{world.county_a.code}/")
    assert response.status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)
    assert len(after.captured_queries) <= 12


def test_a_new_department_in_the_own_county_is_accepted(api, world):
    DepartmentFactory(region=world.county_a, kind=DepartmentKind.JUSTICE, name="城关区司法局")
    api.force_authenticate(world.user_a)
    assert api.get("/api/v1/departments/").json()["count"] == 2


def test_a_township_may_have_departments_but_a_village_may_not(api, world):
    api.force_authenticate(world.user_a)
    response = api.post(
        "/api/v1/departments/", {"region": world.township_a.code, "kind": "公安", "name": "甲街道派出所"}, format="json"
    )
    assert response.status_code == 201
    refused = api.post(
        "/api/v1/departments/", {"region": world.village_a.code, "kind": "公安", "name": "甲社区警务室"}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["fields"]["region"] == [
        "职能部门只能设在乡镇（街道）及以上区划。"
    ]
    assert list(
        Department.objects.filter(region__in=[world.township_a, world.village_a]).values_list("name", flat=True)
    ) == ["甲街道派出所"]
