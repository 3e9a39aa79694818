"""Generate company_b_assets.xlsx: company B's server ledger as its asset system exports it.

Company B (Shenzhen) keeps location in one column ("SZ-DC2/R3/B07/U12-13"), writes the in-service
date as an Excel date cell and the maintenance expiry as a bare Excel serial number, and puts a
title row above the header. Deterministic: run it again and the workbook has the same content.

    .venv/bin/python inventories/examples/legacy/make_company_b.py
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

OUT = Path(__file__).with_name("company_b_assets.xlsx")
EXCEL_EPOCH = dt.date(1899, 12, 30)

MODELS = [
    ("Huawei Technologies Co., Ltd.", "2288H V5", 2, "2102312{}10{}"),
    ("Inspur", "NF5280M6", 2, "21{}"),
    ("H3C", "UniServer R4900 G5", 2, "210235A3{}{}"),
    ("Dell EMC", "PowerEdge R750", 2, "{}"),
    ("HPE", "ProLiant DL360 Gen10 Plus", 1, "CZ2{}"),
]
FUNCTIONS = ["Trading Gateway", "Database", "Compute Node", "Storage Node", "Web Front"]
LETTERS = "BCDFGHJKLMNPQRSTVWXYZ23456789"
HEADERS = ["Device Name", "SN", "Asset No.", "Brand", "Product Model", "Location", "Mgmt IP", "Mgmt Port",
           "In Service Date", "Maintenance Expiry", "Contract No.", "Supplier", "Maintainer", "Function",
           "Lifecycle"]


def serial(rng: random.Random, template: str) -> str:
    def letters(n: int) -> str:
        return "".join(rng.choice(LETTERS) for _ in range(n))

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    if template.startswith("2102312"):
        return template.format(letters(3), digits(6))
    if template.startswith("210235A3"):
        return template.format(letters(4), digits(8))
    if template.startswith("21"):
        return template.format(digits(10))
    if template.startswith("CZ2"):
        return template.format(digits(3) + letters(4))
    return template.format(letters(7))


def rows() -> list[list[object]]:
    rng = random.Random(42)
    out: list[list[object]] = []
    seen: set[str] = set()
    n = 0
    for room, racks in (("R3", ["B07", "B08", "B09"]), ("R5", ["C01", "C02", "C03"])):
        for rack_index, rack in enumerate(racks):
            u = 4
            for k in range(rng.choice([5, 6])):
                n += 1
                brand, model, height, template = rng.choice(MODELS)
                sn = serial(rng, template)
                while sn in seen:
                    sn = serial(rng, template)
                seen.add(sn)
                function = rng.choice(FUNCTIONS)
                start = dt.date(rng.choice([2020, 2021, 2022, 2023]), rng.randint(1, 12), rng.randint(1, 28))
                expiry = start.replace(year=start.year + 5) - dt.timedelta(days=1)
                place = f"SZ-DC2/{room}/{rack}/U{u}" + (f"-{u + height - 1}" if height > 1 else "")
                subnet = 50 + (0 if room == "R3" else 10) + rack_index
                out.append([
                    f"sz-{function.split()[0].lower()}-{n:02d}", sn, f"HT{start.year}-{n:05d}", brand, model, place,
                    f"10.{subnet}.0.{10 + k}", 443 if k == 0 and room == "R5" else None,
                    start,  # a real Excel date cell
                    (expiry - EXCEL_EPOCH).days,  # a bare Excel serial number, as some exports write it
                    f"SZHT-{start.year}-{rng.randint(1, 40):03d}",
                    rng.choice(["Shenzhen Zhongke Sugon IT", "Digital China (Shenzhen)", "Unisplendour Shenzhen"]),
                    rng.choice(["Vendor 7x24", "Vendor NBD", "Third-party (Anhe)"]),
                    function,
                    "Decommissioned" if n in (5, 22) else ("Staging" if n == 30 else "Production"),
                ])
                u += height + 1
    return out


def main() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Servers"
    sheet.append(["Shenzhen Hengtai Securities - server ledger (export of 2026-10-31)"])
    sheet["A1"].font = Font(bold=True)
    sheet.append([])
    sheet.append(HEADERS)
    for row in rows():
        sheet.append(row)
        sheet.cell(row=sheet.max_row, column=9).number_format = "yyyy-mm-dd"
    fixed = dt.datetime(2026, 10, 31, 9, 0, 0)
    workbook.properties.created = fixed  # fixed metadata: regenerating gives the same content
    workbook.properties.modified = fixed
    workbook.save(OUT)
    print(f"wrote {OUT} ({sheet.max_row - 3} servers)")


if __name__ == "__main__":
    main()
