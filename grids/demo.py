"""Demo and benchmark data: a realistic province built deterministically (fixed seed).

The regions and grid workers are written with bulk_create (the audit trail gets one
`bulk` entry for the whole build); users go through the normal model save.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from governance import audit
from governance.choices import AuditAction, DepartmentKind, Role
from governance.codes import Level
from governance.demo import DEMO_PASSWORD, DemoRun
from governance.models import Department, User
from grids.choices import GridType, Terrain
from grids.models import GridWorker, Region
from grids.services import recount_fulltime_workers


@dataclass(frozen=True)
class Scale:
    cities: int
    counties_per_city: int
    townships: tuple[int, int]
    villages: tuple[int, int]
    grids: tuple[int, int]


SCALES = {
    "small": Scale(cities=2, counties_per_city=2, townships=(3, 3), villages=(3, 3), grids=(3, 3)),
    "county": Scale(cities=1, counties_per_city=1, townships=(18, 18), villages=(10, 14), grids=(5, 8)),
    # About 90 counties, 1,300 townships, 70,000 grids (the assessment benchmark's province).
    "province": Scale(cities=14, counties_per_city=7, townships=(13, 16), villages=(8, 12), grids=(4, 6)),
}

PROVINCE = ("62", "甘肃省")
CITIES = [
    ("01", "兰州市"),
    ("05", "天水市"),
    ("02", "嘉峪关市"),
    ("03", "金昌市"),
    ("04", "白银市"),
    ("06", "武威市"),
    ("07", "张掖市"),
    ("08", "平凉市"),
    ("09", "酒泉市"),
    ("10", "庆阳市"),
    ("11", "定西市"),
    ("12", "陇南市"),
    ("29", "临夏回族自治州"),
    ("30", "甘南藏族自治州"),
]
KNOWN_COUNTIES = {
    "6201": [
        ("02", "城关区", Terrain.PLAIN, True),
        ("03", "七里河区", Terrain.HILL, True),
        ("23", "榆中县", Terrain.MOUNTAIN, False),
    ],
    "6205": [
        ("02", "秦州区", Terrain.HILL, True),
        ("21", "清水县", Terrain.MOUNTAIN, False),
        ("03", "麦积区", Terrain.MOUNTAIN, False),
    ],
}
SYLLABLES = "安宝长城川大东丰福甘高广和河红华黄金锦康兰乐丽林龙隆马民宁平齐青庆泉仁瑞三山上石双顺泰太天铁通王文西祥新兴阳永玉元云枣镇中柳杨李张刘陈赵周吴郑"
DEPARTMENT_KINDS = [
    DepartmentKind.COMMITTEE,
    DepartmentKind.POLICE,
    DepartmentKind.JUSTICE,
    DepartmentKind.CIVIL_AFFAIRS,
    DepartmentKind.PETITIONS,
    DepartmentKind.HOUSING,
    DepartmentKind.MARKET,
    DepartmentKind.EMERGENCY,
    DepartmentKind.EDUCATION,
    DepartmentKind.HEALTH,
    DepartmentKind.URBAN,
    DepartmentKind.HUMAN_RESOURCES,
]
DEPARTMENT_SUFFIX = {
    DepartmentKind.COMMITTEE: "委政法委",
    DepartmentKind.POLICE: "公安局",
    DepartmentKind.JUSTICE: "司法局",
    DepartmentKind.CIVIL_AFFAIRS: "民政局",
    DepartmentKind.PETITIONS: "信访局",
    DepartmentKind.HOUSING: "住建局",
    DepartmentKind.MARKET: "市场监管局",
    DepartmentKind.EMERGENCY: "应急管理局",
    DepartmentKind.EDUCATION: "教育局",
    DepartmentKind.HEALTH: "卫健局",
    DepartmentKind.URBAN: "城管局",
    DepartmentKind.HUMAN_RESOURCES: "人社局",
}
# The stations and offices of a township (乡镇/街道) that its centre dispatches to first.
TOWNSHIP_DEPARTMENTS = {
    DepartmentKind.POLICE: "派出所",
    DepartmentKind.JUSTICE: "司法所",
    DepartmentKind.EMERGENCY: "安监站",
    DepartmentKind.HOUSING: "村镇建设服务站",
    DepartmentKind.CIVIL_AFFAIRS: "社会事务办",
}


class DemoBuilder:
    def __init__(self, scale: str, seed: int = 2026):
        self.scale = SCALES[scale]
        self.scale_name = scale
        self.rng = random.Random(seed)
        self.regions: list[Region] = []
        self.workers: list[GridWorker] = []
        self.used_names: set[str] = set()

    # --- names -------------------------------------------------------------------
    def _name(self, suffix: str) -> str:
        for _attempt in range(50):
            name = "".join(self.rng.choice(SYLLABLES) for _ in range(2)) + suffix
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        return "".join(self.rng.choice(SYLLABLES) for _ in range(3)) + suffix

    # --- regions -----------------------------------------------------------------
    def _add(
        self, code: str, name: str, level: Level, parent: Region | None, terrain: str, urban: bool, **extra
    ) -> Region:
        region = Region(code=code, name=name, level=level, parent=parent, terrain=terrain, is_urban=urban, **extra)
        self.regions.append(region)
        return region

    def build_regions(self) -> None:
        province = self._add(PROVINCE[0], PROVINCE[1], Level.PROVINCE, None, Terrain.MOUNTAIN, False)
        for city_suffix, city_name in CITIES[: self.scale.cities]:
            city = self._add(province.code + city_suffix, city_name, Level.CITY, province, Terrain.HILL, True)
            for county_suffix, county_name, terrain, urban in self._counties(city.code):
                county = self._add(city.code + county_suffix, county_name, Level.COUNTY, city, terrain, urban)
                self._build_county(county)
        self._roll_up()

    def _counties(self, city_code: str):
        known = KNOWN_COUNTIES.get(city_code, [])[: self.scale.counties_per_city]
        counties = list(known)
        used = {suffix for suffix, *_rest in counties}
        number = 21
        while len(counties) < self.scale.counties_per_city:
            if f"{number:02d}" not in used:
                terrain = self.rng.choice([Terrain.MOUNTAIN, Terrain.MOUNTAIN, Terrain.HILL, Terrain.PLAIN])
                counties.append((f"{number:02d}", self._name("县"), terrain, False))
            number += 1
        return counties

    def _build_county(self, county: Region) -> None:
        for t in range(1, self.rng.randint(*self.scale.townships) + 1):
            urban = county.is_urban and t <= 2
            township = self._add(
                f"{county.code}{t:03d}",
                self._name("街道" if urban else self.rng.choice("镇镇乡")),
                Level.TOWNSHIP,
                county,
                county.terrain,
                urban,
            )
            for v in range(1, self.rng.randint(*self.scale.villages) + 1):
                village = self._add(
                    f"{township.code}{v:03d}",
                    self._name("社区" if urban else "村"),
                    Level.VILLAGE,
                    township,
                    county.terrain,
                    urban,
                )
                for g in range(1, self.rng.randint(*self.scale.grids) + 1):
                    self._add_grid(village, g)

    def _add_grid(self, village: Region, number: int) -> None:
        rng, urban = self.rng, village.is_urban
        households = rng.randint(180, 330) if urban else rng.randint(72, 128)
        population = int(households * rng.uniform(2.6, 3.4))
        area = round(rng.uniform(0.15, 0.95), 2) if urban else round(rng.uniform(1.5, 16.0), 2)
        grid_type = GridType.COMPREHENSIVE if rng.random() > 0.05 else rng.choice(GridType.values[1:])
        grid = self._add(
            f"{village.code}{number:03d}",
            f"{village.name}第{number}网格",
            Level.GRID,
            village,
            village.terrain,
            urban,
            population=population,
            households=households,
            area_km2=area,
            grid_type=grid_type,
            parttime_workers=rng.randint(0, 3),
            building_heads=rng.randint(2, 12) if urban else rng.randint(0, 3),
        )
        full_time = 0 if rng.random() < 0.04 else (2 if population > 500 and rng.random() < 0.6 else 1)
        for i in range(full_time):
            self.workers.append(
                GridWorker(grid=grid, name=self._person(), is_full_time=True, started_on=dt.date(2023, 1 + i, 1))
            )

    def _person(self) -> str:
        return self.rng.choice("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗") + "".join(
            self.rng.choice(SYLLABLES) for _ in range(2)
        )

    def _roll_up(self) -> None:
        """Parents' population and households are the sums of their grids."""
        by_code = {region.code: region for region in self.regions}
        for region in sorted(self.regions, key=lambda r: -r.level):
            if region.parent is not None:
                parent = by_code[region.parent.code]
                parent.population += region.population
                parent.households += region.households

    # --- people ------------------------------------------------------------------
    def build_departments(self) -> None:
        counties = [r for r in self.regions if r.level == Level.COUNTY]
        townships = [r for r in self.regions if r.level == Level.TOWNSHIP]
        departments = [
            Department(region=county, kind=kind, name=county.name + DEPARTMENT_SUFFIX[kind])
            for county in counties
            for kind in DEPARTMENT_KINDS
        ] + [
            Department(region=township, kind=kind, name=township.name + suffix)
            for township in townships
            for kind, suffix in TOWNSHIP_DEPARTMENTS.items()
        ]
        Department.objects.bulk_create(departments)
        audit.record(
            AuditAction.BULK,
            model_label="governance.department",
            object_repr=f"seed_demo --scale {self.scale_name}",
            region_code=PROVINCE[0],
            changes={"departments": len(departments)},
        )
        self.police = {d.region.code: d for d in departments if d.kind == DepartmentKind.POLICE}  # county, township

    def build_accounts(self, mediation_orgs: dict) -> list[tuple[str, str, str]]:
        """One account per role; a mediator belongs to the organisation built for their region
        (`mediation_orgs`, by region code: the disputes app's demo step builds them first)."""
        police = self.police
        counties = [r for r in self.regions if r.level == Level.COUNTY]
        by_code = {region.code: region for region in self.regions}
        first_county = counties[0]
        sibling = counties[1] if len(counties) > 1 else counties[0]
        township = next(r for r in self.regions if r.level == Level.TOWNSHIP and r.code.startswith(first_county.code))
        village = next(r for r in self.regions if r.level == Level.VILLAGE and r.code.startswith(township.code))
        grid = next(r for r in self.regions if r.level == Level.GRID and r.code.startswith(village.code))
        province = by_code[PROVINCE[0]]
        accounts = [
            ("admin", "系统管理员", Role.ADMIN, province, None),
            ("sheng_zfw", "省委政法委 王文", Role.COMMITTEE_STAFF, province, None),
            (
                f"xian_zfw_{first_county.code}",
                f"{first_county.name}政法委 李明",
                Role.COMMITTEE_STAFF,
                first_county,
                None,
            ),
            (
                f"xian_zx_{first_county.code}",
                f"{first_county.name}综治中心 张华",
                Role.CENTRE_STAFF,
                first_county,
                None,
            ),
            *(
                [(f"xian_zx_{sibling.code}", f"{sibling.name}综治中心 赵强", Role.CENTRE_STAFF, sibling, None)]
                if sibling != first_county
                else []  # a one-county build (scale "county") has no sibling
            ),
            (f"zhen_zx_{township.code}", f"{township.name}综治中心 刘洋", Role.CENTRE_STAFF, township, None),
            (f"wgz_{village.code}", f"{village.name}网格长 陈静", Role.GRID_LEADER, village, None),
            (f"wgy_{grid.code}", "网格员 杨帆", Role.GRID_WORKER, grid, None),
            (
                f"gaj_{first_county.code}",
                f"{first_county.name}公安局 周涛",
                Role.DEPARTMENT_HANDLER,
                first_county,
                police[first_county.code],
            ),
            (
                f"pcs_{township.code}",
                f"{township.name}派出所 孙磊",
                Role.DEPARTMENT_HANDLER,
                township,
                police[township.code],
            ),
            (f"tjy_{township.code}", f"{township.name}调委会 吴芳", Role.MEDIATOR, township, None),
            (f"khy_{first_county.code}", "考核员 郑伟", Role.ASSESSOR, first_county, None),
            (f"api_12345_{first_county.code}", "12345热线对接", Role.API_CLIENT, first_county, None),
        ]
        password_hash = make_password(DEMO_PASSWORD)
        printed = []
        for username, display, role, region, department in accounts:
            user = User(username=username, display_name=display, role=role, region=region, department=department)
            # The demo administrator may also open the configuration pages (/admin/).
            user.is_staff = user.is_superuser = role == Role.ADMIN
            if role == Role.MEDIATOR:
                user.mediation_org = mediation_orgs[region.code]
            user.password = password_hash
            user.save()
            printed.append((username, str(role.label), region.name))
            if role == Role.GRID_WORKER:
                GridWorker.objects.filter(grid=grid).delete()
                GridWorker.objects.create(
                    grid=grid, user=user, name="杨帆", is_full_time=True, started_on=dt.date(2023, 1, 1)
                )
        return printed

    def draw_outlines(self) -> None:
        """Outlines for the dashboard's map (grids.outlines): real cities and counties, generated
        cells below; the benchmark scales stop at the townships (a province's 70,000 grids would
        only slow the build down)."""
        from grids.outlines import assign_demo_outlines

        assign_demo_outlines(self.regions, max_level=Level.GRID if self.scale_name == "small" else Level.TOWNSHIP)

    @transaction.atomic
    def build_hierarchy(self) -> None:
        self.build_regions()
        self.draw_outlines()
        for level in Level:  # parents first, so children pick up their parents' ids
            Region.objects.bulk_create([r for r in self.regions if r.level == level], batch_size=2000)
        GridWorker.objects.bulk_create(self.workers, batch_size=2000)
        recount_fulltime_workers()
        audit.record(
            AuditAction.BULK,
            model_label="grids.region",
            object_repr=f"seed_demo --scale {self.scale_name}",
            region_code=PROVINCE[0],
            changes={"regions": len(self.regions), "grid_workers": len(self.workers)},
        )


# --- The demo's steps (registered in GridsConfig.ready(), run by governance's seed_demo) ---------------


def refuse_rebuild() -> str:
    if Region.objects.exists():
        return "Regions already exist: demo data is not built twice. (Use a fresh database to rebuild.)"
    return ""


def seed_regions(run: DemoRun) -> None:
    """The province, its regions and grid workers; the builder is left for the later steps."""
    builder = DemoBuilder(run.scale)
    builder.build_hierarchy()
    run.shared["hierarchy"] = builder
    run.shared["regions"] = builder.regions
    counts = {level: Region.objects.filter(level=level).count() for level in range(1, 7)}
    run.summary = ", ".join(f"level {level}: {n}" for level, n in counts.items())


@transaction.atomic
def seed_departments(run: DemoRun) -> None:
    run.shared["hierarchy"].build_departments()


@transaction.atomic
def seed_accounts(run: DemoRun) -> None:
    run.accounts = run.shared["hierarchy"].build_accounts(run.shared.get("mediation_orgs", {}))
