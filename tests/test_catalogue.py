"""The service-item catalogue: loading the demo data, errors by file and line, guides."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

import hall_ops.cases.models  # noqa: F401 - registers the catalogue and intake tables
from hall_ops.cases.catalogue import (
    BOARDS,
    ITEM_COLUMNS,
    MATERIAL_COLUMNS,
    CatalogueError,
    ItemMaterial,
    ServiceItem,
    items_for_service,
    load_catalogue,
    service_guide,
)
from hall_ops.db import Database
from hall_ops.errors import NotFound
from hall_ops.queue.models import Service
from zones.models import Zone

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "catalogue"

ZONES = ["front_intake", "back_approval", "public_affairs", "egov_experience", "business"]
SERVICES = [  # code, letter, board
    ("investment", "A", "investment"),
    ("enterprise", "B", "enterprise"),
    ("real_estate", "C", "real_estate"),
    ("non_resident", "D", "non_resident"),
    ("delivery", "E", None),
]


@pytest.fixture
def cat_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'catalogue.db'}")
    db.create_all()
    with db.write() as s:
        for position, code in enumerate(ZONES):
            s.add(Zone(code=code, name_zh=code, name_en=code, position=position))
        s.flush()
        for position, (code, letter, board) in enumerate(SERVICES):
            s.add(Service(code=code, letter=letter, name_zh=code, name_en=code,
                          zone_code="front_intake", board=board, position=position))
    yield db
    db.dispose()


def write_catalogue(directory: Path, items: list[list[str]], materials: list[list[str]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (("items.csv", ITEM_COLUMNS, items),
                               ("materials.csv", MATERIAL_COLUMNS, materials)):
        with (directory / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    return directory


ITEM = ["X-1", "测试事项", "Test item", "enterprise", "scj", "市场监督管理局", "3", "0",
        "enterprise"]
MATERIAL = ["X-1", "申请书", "Application form", "true", "1", "false"]


def item(**changes: str) -> list[str]:
    row = dict(zip(ITEM_COLUMNS, ITEM, strict=True))
    row.update(changes)
    return list(row.values())


def material(**changes: str) -> list[str]:
    row = dict(zip(MATERIAL_COLUMNS, MATERIAL, strict=True))
    row.update(changes)
    return list(row.values())


# ---------------------------------------------------------------- the demo catalogue


def test_demo_catalogue_loads_with_all_four_boards(cat_db):
    with cat_db.write() as s:
        counts = load_catalogue(s, DATA)
    assert counts["items"] >= 30 and counts["deactivated"] == 0
    with cat_db.read() as s:
        items = s.scalars(select(ServiceItem)).all()
        assert len(items) == counts["items"]
        assert s.scalar(select(func.count()).select_from(ItemMaterial)) == counts["materials"]
        by_board = {board: [i for i in items if i.board == board] for board in BOARDS}
        assert all(len(group) >= 5 for group in by_board.values())
        assert {i.service_code for i in items} == set(BOARDS)
        assert all(i.materials and any(m.key for m in i.materials) for i in items)
        # Shared materials are what make one set of documents possible.
        names = [m.name_zh for i in items for m in i.materials]
        assert names.count("营业执照") >= 5 and names.count("申请人身份证明") >= 5
        assert any(i.time_limit_days == 0 for i in items)
        assert any(i.fee_yuan > 0 for i in items)


def test_service_guide_and_items_for_service(cat_db):
    with cat_db.write() as s:
        load_catalogue(s, DATA)
    with cat_db.read() as s:
        guide = service_guide(s, "BDC-01")
        assert guide["department"] == {"code": "bdc", "name_zh": "不动产登记中心",
                                       "name_en": "Real Estate Registration Centre"}
        assert guide["board"] == "real_estate" and guide["board_name_zh"] == "不动产登记"
        assert guide["time_limit_days"] == 5
        assert (guide["fee_yuan"], guide["free"]) == ("80.00", False)
        materials = {m["name_zh"]: m for m in guide["materials"]}
        assert materials["不动产权证书"] == {
            "name_zh": "不动产权证书", "name_en": "Real-estate title certificate",
            "key": True, "copies": 1, "e_licence": True,
        }
        assert materials["完税凭证"]["key"] is False  # may be supplied later
        assert guide["paper_materials"] == sum(not m["e_licence"] for m in guide["materials"])
        assert service_guide(s, "QY-05")["free"] is True

        real_estate = items_for_service(s, "real_estate")
        assert [i["code"] for i in real_estate][:3] == ["BDC-01", "BDC-02", "BDC-03"]
        assert all(i["board"] == "real_estate" for i in real_estate)
        assert items_for_service(s, "delivery") == []
        with pytest.raises(NotFound):
            items_for_service(s, "nope")
        with pytest.raises(NotFound) as err:
            service_guide(s, "NOPE-1")
        assert err.value.code == "unknown_item"


def test_reload_updates_in_place_and_deactivates_dropped_items(cat_db, tmp_path):
    copy = tmp_path / "catalogue"
    shutil.copytree(DATA, copy)
    with cat_db.write() as s:
        load_catalogue(s, copy)
    with cat_db.read() as s:
        ids_before = {(m.item_code, m.name_zh): m.id for m in s.scalars(select(ItemMaterial))}

    items = (copy / "items.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in items if not line.startswith("FZC-09,")]
    kept = [line.replace(",5,80,real_estate", ",6,90.50,real_estate", 1)
            if line.startswith("BDC-01,") else line for line in kept]
    (copy / "items.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    materials = (copy / "materials.csv").read_text(encoding="utf-8").splitlines()
    materials = [line for line in materials
                 if not line.startswith("FZC-09,") and not line.startswith("BDC-01,婚姻状况证明")]
    materials.append("BDC-01,房屋交接书,Hand-over certificate of the house,false,1,false")
    (copy / "materials.csv").write_text("\n".join(materials) + "\n", encoding="utf-8")

    with cat_db.write() as s:
        counts = load_catalogue(s, copy)
    assert counts["deactivated"] == 1
    with cat_db.read() as s:
        with pytest.raises(NotFound):
            service_guide(s, "FZC-09")
        assert "FZC-09" not in [i["code"] for i in items_for_service(s, "non_resident")]
        guide = service_guide(s, "BDC-01")
        assert (guide["time_limit_days"], guide["fee_yuan"]) == (6, "90.50")
        names = [m["name_zh"] for m in guide["materials"]]
        assert "婚姻状况证明" not in names and names[-1] == "房屋交接书"
        ids_after = {(m.item_code, m.name_zh): m.id for m in s.scalars(select(ItemMaterial))}
        unchanged = set(ids_before) & set(ids_after)
        assert all(ids_before[k] == ids_after[k] for k in unchanged)
        assert s.get(ServiceItem, "FZC-09") is not None  # kept for cases that point at it

    with cat_db.write() as s:  # loading the same files again changes nothing
        assert load_catalogue(s, copy) == {**counts, "deactivated": 0}


# ---------------------------------------------------------------- errors by file and line


BAD_CASES = [
    # (items rows, material rows, file, line, reason)
    ([item(board="housing")], [material()], "items.csv", 2, "unknown board 'housing'"),
    ([item(), item(code="X-2", name_zh="")], [material()], "items.csv", 3,
     "missing field(s) ['name_zh']"),
    ([item(time_limit_days="-1")], [material()], "items.csv", 2,
     "time_limit_days must not be negative"),
    ([item(time_limit_days="3天")], [material()], "items.csv", 2,
     "time_limit_days must be a whole number"),
    ([item(), item(code="X-2"), item()], [material()], "items.csv", 4,
     "duplicate item code X-1 (first on line 2)"),
    ([item(service_code="notary")], [material()], "items.csv", 2, "unknown service 'notary'"),
    ([item(service_code="investment")], [material()], "items.csv", 2, "serves board 'investment'"),
    ([item(fee_yuan="-5")], [material()], "items.csv", 2, "fee_yuan must be ≥ 0"),
    ([item(fee_yuan="1.005")], [material()], "items.csv", 2, "at most 2 decimals"),
    ([item(fee_yuan="free")], [material()], "items.csv", 2, "fee_yuan must be an amount"),
    ([item(code="X 1")], [material(item_code="X 1")], "items.csv", 2, "item code 'X 1'"),
    ([item(), item(code="X-2", department_zh="市场局")], [material(), material(item_code="X-2")],
     "items.csv", 3, "department scj is called '市场局' here but '市场监督管理局' on line 2"),
    ([item(), item(code="X-2")], [material()], "items.csv", 3, "item X-2 has no materials"),
    ([item()], [material(), material(item_code="X-9")], "materials.csv", 3, "unknown item 'X-9'"),
    ([item()], [material(), material()], "materials.csv", 3,
     "material '申请书' listed twice for X-1"),
    ([item()], [material(key="yes")], "materials.csv", 2, "key must be true or false"),
    ([item()], [material(e_licence="")], "materials.csv", 2, "missing field(s) ['e_licence']"),
    ([item()], [material(copies="0")], "materials.csv", 2, "copies must be at least 1"),
    ([item(), item(code="X-2")], [material(), material(item_code="X-2", name_en="Form")],
     "materials.csv", 3, "material '申请书' is 'Form' here but 'Application form' on line 2"),
]


@pytest.mark.parametrize(("items", "materials", "file", "line", "reason"), BAD_CASES)
def test_bad_entry_is_named_by_file_and_line(
    cat_db, tmp_path, items, materials, file, line, reason
):
    directory = write_catalogue(tmp_path / "bad", items, materials)
    with pytest.raises(CatalogueError) as err, cat_db.write() as s:
        load_catalogue(s, directory)
    assert str(err.value).startswith(f"{directory / file}:{line}: ")
    assert reason in str(err.value)
    assert (err.value.path.name, err.value.line) == (file, line)


def test_line_numbers_count_physical_lines(cat_db, tmp_path):
    directory = write_catalogue(tmp_path / "bad", [item()], [])
    # A quoted field spanning two lines, then a blank line, then the bad row.
    (directory / "materials.csv").write_text(
        "item_code,name_zh,name_en,key,copies,e_licence\n"
        'X-1,申请书,"Application\nform",true,1,false\n'
        "\n"
        "X-1,章程,Articles,maybe,1,false\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError) as err, cat_db.write() as s:
        load_catalogue(s, directory)
    assert err.value.line == 5


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("code,name_zh,name_en,board,department_code,department_zh,time_limit_days,service_code",
         "missing column(s) ['fee_yuan']"),
        ("code,name_zh,name_en,board,department_code,department_zh,time_limit_days,fee_yuan,"
         "service_code,legal_basis", "unknown column(s) ['legal_basis']"),
    ],
)
def test_bad_header(cat_db, tmp_path, header, reason):
    directory = write_catalogue(tmp_path / "bad", [], [])
    (directory / "items.csv").write_text(header + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as err, cat_db.write() as s:
        load_catalogue(s, directory)
    assert f"items.csv:1: {reason}" in str(err.value)


def test_missing_file_and_short_row(cat_db, tmp_path):
    with pytest.raises(CatalogueError) as err, cat_db.write() as s:
        load_catalogue(s, tmp_path / "nowhere")
    assert "items.csv" in str(err.value) and "no such file" in str(err.value)
    directory = write_catalogue(tmp_path / "bad", [item()[:5]], [material()])
    with pytest.raises(CatalogueError) as err, cat_db.write() as s:
        load_catalogue(s, directory)
    assert "items.csv:2: expected 9 fields, found 5" in str(err.value)


def test_a_bad_file_leaves_the_loaded_catalogue_untouched(cat_db, tmp_path):
    with cat_db.write() as s:
        load_catalogue(s, DATA)
    copy = tmp_path / "catalogue"
    shutil.copytree(DATA, copy)
    with (copy / "materials.csv").open("a", encoding="utf-8") as f:
        f.write("QY-01,公司章程,Articles of association,true,1,false\n")  # listed twice
    with pytest.raises(CatalogueError), cat_db.write() as s:
        load_catalogue(s, copy)
    with cat_db.read() as s:
        assert service_guide(s, "QY-01")["materials"][1]["name_zh"] == "公司章程"
        assert len(s.scalars(select(ServiceItem)).all()) >= 30


def test_department_english_name_is_optional(cat_db, tmp_path):
    """A catalogue without ``department_en`` (older files) still loads; English pages then show
    the Chinese name. With the column, the English name is used (issue 10, defect 10)."""
    plain = write_catalogue(tmp_path / "plain", [item()], [material()])
    with cat_db.write() as s:
        load_catalogue(s, plain)
    with cat_db.read() as s:
        assert service_guide(s, "X-1")["department"] == {
            "code": "scj", "name_zh": "市场监督管理局", "name_en": "市场监督管理局"}
    named = tmp_path / "named"
    named.mkdir()
    shutil.copy(plain / "materials.csv", named / "materials.csv")
    rows = list(csv.reader((plain / "items.csv").open(encoding="utf-8")))
    (named / "items.csv").write_text(
        "\n".join(",".join(r + [v]) for r, v in zip(rows, ["department_en",
                                                              "Market Regulation Bureau"],
                                                      strict=True)) + "\n", encoding="utf-8")
    with cat_db.write() as s:
        load_catalogue(s, named)
    with cat_db.read() as s:
        assert service_guide(s, "X-1")["department"]["name_en"] == "Market Regulation Bureau"
