"""Regenerate ``examples/labels.csv``: a batch of realistic, fictional label requests.

Run ``.venv/bin/python examples/make_labels.py`` (or ``--out PATH``). Output is
deterministic (fixed seed): the same file every time.

The companies, certification bodies and products are invented; their identifiers
are well formed: Unified Social Credit Codes carry the GB 32100-2015 §4 check
character (Guangdong administrative division codes), GTIN-13s the GS1 mod-10 check
digit (prefixes 690-699 are GS1 China's). Figures are plausible, not measured:

* room air conditioners (2.6 / 3.5 / 5.0 / 7.2 kW) per piece, cradle-to-grave with a
  10-year use phase at the national grid average factor plus R32 leakage, so the
  use stage is 85-92 % of the total; stage emissions add up to the total exactly;
* lithium-ion cells, modules and packs per kWh, cradle-to-gate, 60-110 kgCO2e/kWh.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Final

from issuer import batchfile
from schemas.validate import check_gtin, check_uscc

SEED: Final = 20251001
OUT: Final = Path(__file__).with_name("labels.csv")

# The columns of a batch file, as `carbonlabel issue batch` reads them.
COLUMNS: Final = batchfile.COLUMNS

# GB 32100-2015 §4 character set and weights (3**(i-1) mod 31).
USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
GRID_FACTOR: Final = 0.5703  # kgCO2/kWh, national grid average (illustrative)
R32_GWP: Final = 771.0  # AR6 GWP-100
COMMITTEE: Final = "广东省碳标签专业委员会 (illustrative)"
AUTHORITY_ID: Final = "https://gdee.gd.gov.cn/"
AUTHORITY_NAME: Final = "广东省生态环境厅 (illustrative)"


def uscc(rng: random.Random, division: str) -> str:
    """A USCC of an enterprise (``91``) registered in ``division``, with its check char."""
    body = "91" + division + "MA" + "".join(rng.choice(USCC_CHARSET) for _ in range(7))
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    code = body + USCC_CHARSET[(31 - total % 31) % 31]
    check_uscc(code)
    return code


def gtin13(company_prefix: str, item: int) -> str:
    """GTIN-13 from a 7-digit company prefix and a 5-digit item reference."""
    body = f"{company_prefix}{item:05d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    code = body + str((10 - total % 10) % 10)
    check_gtin(code)
    return code


def dec(value: float, places: int = 1) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Company:
    name: str
    uscc: str
    gtin_prefix: str
    series: str


@dataclass(frozen=True)
class CertificationBody:
    name: str
    uscc: str
    approval: int


def make_parties(
    rng: random.Random,
) -> tuple[list[Company], list[Company], list[CertificationBody], list[tuple[str, str]]]:
    ac = [
        Company("广东澜湾制冷电器有限公司", uscc(rng, "440606"), "6923517", "LW"),
        Company("珠海恒川空调设备有限公司", uscc(rng, "440402"), "6938602", "HC"),
        Company("中山市南岚电器有限公司", uscc(rng, "442000"), "6947215", "NL"),
        Company("江门市粤凌家电科技有限公司", uscc(rng, "440703"), "6970384", "YL"),
    ]
    batteries = [
        Company("惠州市鹏拓新能源科技有限公司", uscc(rng, "441302"), "6958821", "PT"),
        Company("东莞市锐储电池有限公司", uscc(rng, "441900"), "6975530", "RC"),
    ]
    bodies = [
        CertificationBody("广州绿衡认证有限公司", uscc(rng, "440104"), 7),
        CertificationBody("深圳中碳检验认证有限公司", uscc(rng, "440304"), 11),
        CertificationBody("广东粤标质量认证中心有限公司", uscc(rng, "440106"), 14),
    ]
    distributors = [
        (uscc(rng, "440103"), "广州市穗通电器销售有限公司"),
        (uscc(rng, "440305"), "深圳市南联电子商务有限公司"),
        (uscc(rng, "440604"), "佛山市禅达家电连锁有限公司"),
        (uscc(rng, "441900"), "东莞市汇购商贸有限公司"),
        (uscc(rng, "440402"), "珠海市湾区电器贸易有限公司"),
        (uscc(rng, "442000"), "中山市岐安电器销售有限公司"),
        (uscc(rng, "440106"), "广州天河储能系统集成有限公司"),
    ]
    return ac, batteries, bodies, distributors


def common_columns(
    rng: random.Random,
    index: int,
    body: CertificationBody,
    distributors: list[tuple[str, str]],
    key: str,
) -> dict[str, str]:
    """Certification, documents, distribution and data-quality columns of one row."""
    month, day = rng.choice((8, 9, 10)), rng.randint(1, 28)
    chosen = rng.sample(distributors, rng.randint(0, 3))
    regions = rng.choice(("CN-GD;HK;MO", "CN-GD", "CN-GD;HK", "CN;HK;MO", "CN"))
    return {
        "geography": "CN-GD",
        "characterization_factors": "AR6",
        "cross_sectoral_standards": rng.choice(("GB/T24067-2024;ISO14067", "GB/T24067-2024")),
        "product_rule_operator": "Other",
        "product_rule_operator_name": COMMITTEE,
        "ef_database": "国家温室气体排放因子数据库 (illustrative);Ecoinvent",
        "ef_database_version": "2025.1;3.10",
        "exempted_emissions_percent": str(dec(rng.uniform(0.2, 1.5))),
        "packaging_included": "true",
        "dqr_technological": str(dec(rng.uniform(1.2, 2.4))),
        "dqr_geographical": str(dec(rng.uniform(1.1, 2.2))),
        "dqr_temporal": str(dec(rng.uniform(1.0, 2.0))),
        "assessment_date": f"2025-{month:02d}-{day:02d}",
        "verifier_name": body.name,
        "verifier_uscc": body.uscc,
        "accreditation_id": (
            "https://registry.gd-carbon-label.example/endorsements/"
            f"cab-approval-2025-{body.approval:03d}"
        ),
        "accreditation_name": f"Approval of {body.name} for the Guangdong carbon label scheme",
        "accreditation_authority_id": AUTHORITY_ID,
        "accreditation_authority_name": AUTHORITY_NAME,
        "study_report_sha256": digest(key, "pcf-study-report"),
        "certificate_sha256": digest(key, "certificate"),
        "distributors": ";".join(u for u, _ in chosen),
        "distributor_names": ";".join(n for _, n in chosen),
        "market_regions": regions,
        # Every seventh row leaves validity to the issuer's default.
        "valid_until": "" if index % 7 == 6 else f"2028-{month:02d}-{day:02d}T23:59:59Z",
    }


AC_CAPACITIES: Final = {  # kW → (model code, product form, mass kg, R32 charge kg)
    "2.6": ("26GW", "分体挂壁式", 36.0, 0.62),
    "3.5": ("35GW", "分体挂壁式", 44.5, 0.86),
    "5.0": ("50LW", "分体落地式", 63.0, 1.25),
    "7.2": ("72LW", "分体落地式", 82.0, 1.70),
}
AC_SERIES: Final = (  # (series code, energy grade, relative electricity use)
    ("BP1", "一级能效", 0.86),
    ("BP1", "一级能效", 0.90),
    ("BP2", "二级能效", 1.00),
    ("BP2", "二级能效", 1.05),
    ("BP3", "三级能效", 1.14),
)
AC_BOUNDARY: Final = (
    "Raw materials (steel, copper, aluminium, plastics, R32 refrigerant), compressor and "
    "heat-exchanger manufacturing and assembly in Guangdong, road transport to distribution "
    "centres, 10 years of use (electricity at the national grid average factor and "
    "refrigerant leakage), recycling and refrigerant recovery at end of life."
)


def ac_footprint(rng: random.Random, capacity: str, relative_use: float) -> dict[str, str]:
    """Stage emissions of one air conditioner, re-drawn until use is 85-92 % of the total."""
    _, _, base_mass, charge = AC_CAPACITIES[capacity]
    while True:
        mass = base_mass * rng.uniform(0.95, 1.06)
        kwh_year = float(capacity) * rng.uniform(175.0, 285.0) * relative_use
        leakage = charge * rng.uniform(0.15, 0.25) * R32_GWP
        stages = {
            "stage_raw_material": dec(mass * rng.uniform(8.4, 9.6)),
            "stage_manufacturing": dec(mass * rng.uniform(1.05, 1.45)),
            "stage_distribution": dec(mass * rng.uniform(0.26, 0.38)),
            "stage_use": dec(10 * kwh_year * GRID_FACTOR + leakage),
            "stage_end_of_life": dec(mass * rng.uniform(0.42, 0.62)),
        }
        total = sum(stages.values(), Decimal(0))
        if Decimal("0.85") <= stages["stage_use"] / total <= Decimal("0.92"):
            break
    biogenic_uptake = dec(mass * rng.uniform(0.03, 0.06))
    return {
        "product_mass": str(dec(mass)),
        "pcf_excluding_biogenic": str(total),
        "pcf_including_biogenic": str(total - biogenic_uptake),
        "fossil_ghg": str(dec(float(total) - leakage - rng.uniform(1.0, 4.0))),
        **{k: str(v) for k, v in stages.items()},
    }


def ac_rows(
    rng: random.Random,
    companies: list[Company],
    bodies: list[CertificationBody],
    distributors: list[tuple[str, str]],
) -> Iterator[dict[str, str]]:
    """80 model-level rows, then 16 batch-level and 4 item-level ones."""
    models: list[dict[str, str]] = []
    for number, company in enumerate(companies):
        item = 100 + 10 * number
        for capacity, (code, form, _, _) in AC_CAPACITIES.items():
            for series, grade, relative_use in AC_SERIES:
                item += 1
                variant = rng.choice("ABCDEFGH")
                models.append(
                    {
                        "manufacturer_uscc": company.uscc,
                        "manufacturer_name": company.name,
                        "gtin": gtin13(company.gtin_prefix, item),
                        "product_name": f"房间空调器 {form} 变频 {capacity} kW {grade}",
                        "model": f"KFR-{code}/{company.series}{series}{variant}-N{item % 10}",
                        "product_category": "room-air-conditioner",
                        "capacity": capacity,
                        "relative_use": str(relative_use),
                    }
                )
    for index, model in enumerate(models):
        yield ac_row(rng, index, model, "model", bodies, distributors)
    for index, model in enumerate(rng.sample(models, 16)):
        yield ac_row(rng, 80 + index, model, "batch", bodies, distributors)
    for index, model in enumerate(rng.sample(models, 4)):
        yield ac_row(rng, 96 + index, model, "item", bodies, distributors)


def ac_row(
    rng: random.Random,
    index: int,
    model: dict[str, str],
    granularity: str,
    bodies: list[CertificationBody],
    distributors: list[tuple[str, str]],
) -> dict[str, str]:
    row = {k: v for k, v in model.items() if k not in ("capacity", "relative_use")}
    row["granularity"] = granularity
    key = f"{row['gtin']}|{granularity}|{index}"
    start, end = "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"
    primary = rng.uniform(25.0, 55.0)
    if granularity == "batch":
        row["batch"] = f"25B{rng.randint(1, 9):02d}{rng.randint(1, 28):02d}{rng.choice('AB')}"
        start, end = "2025-01-01T00:00:00Z", "2025-07-01T00:00:00Z"
        primary = rng.uniform(55.0, 75.0)
    elif granularity == "item":
        first = rng.randint(1, 50) * 1000
        row["serial_first"] = f"SN25{first:07d}"
        row["serial_last"] = f"SN25{first + rng.choice((500, 1000, 2000)) - 1:07d}"
    elif index % 4 == 1:
        start, end = "2024-07-01T00:00:00Z", "2025-07-01T00:00:00Z"
    row.update(
        {
            "declared_unit": "piece",
            "declared_amount": "1",
            "boundary": "cradle-to-grave",
            "boundary_description": AC_BOUNDARY,
            **ac_footprint(rng, model["capacity"], float(model["relative_use"])),
            "reference_period_start": start,
            "reference_period_end": end,
            "product_rule_names": "房间空调器产品碳足迹核算规则 (illustrative)",
            "primary_data_share": str(dec(primary)),
            **common_columns(rng, index, rng.choice(bodies), distributors[:6], key),
        }
    )
    return row


BATTERIES: Final = (  # (product name, model stem, chemistry, kg per kWh)
    ("磷酸铁锂储能电池模组 51.2V 100Ah", "LFP-51100M", "LFP", 7.6),
    ("磷酸铁锂储能电池模组 51.2V 280Ah", "LFP-51280M", "LFP", 7.2),
    ("磷酸铁锂电芯 3.2V 280Ah", "LFP-C280", "LFP", 5.6),
    ("磷酸铁锂电芯 3.2V 105Ah", "LFP-C105", "LFP", 5.9),
    ("磷酸铁锂电动自行车电池包 48V 20Ah", "LFP-4820P", "LFP", 8.4),
    ("三元锂离子动力电池模组 NCM811 355V 50Ah", "NCM-35550M", "NCM", 5.1),
    ("三元锂离子电芯 NCM523 3.65V 60Ah", "NCM-C60", "NCM", 4.8),
)
BATTERY_BOUNDARY: Final = (
    "Cathode and anode active materials, electrolyte, separator, copper and aluminium foils, "
    "housings and electronics; cell manufacturing (coating, formation, ageing) and module or "
    "pack assembly in Guangdong, up to the factory gate."
)


def battery_rows(
    rng: random.Random,
    companies: list[Company],
    bodies: list[CertificationBody],
    distributors: list[tuple[str, str]],
) -> Iterator[dict[str, str]]:
    """Two makers × seven products × two (model-level and batch-level) rows."""
    sellers = [distributors[0], distributors[1], distributors[6]]
    index = 100
    for number, company in enumerate(companies):
        for item, (name, stem, chemistry, kg_per_kwh) in enumerate(BATTERIES, start=1):
            gtin = gtin13(company.gtin_prefix, 200 + 10 * number + item)
            for granularity in ("model", "batch"):
                low, high = (60.0, 88.0) if chemistry == "LFP" else (85.0, 110.0)
                total = dec(rng.uniform(low, high))
                raw = dec(float(total) * rng.uniform(0.70, 0.82))
                row = {
                    "manufacturer_uscc": company.uscc,
                    "manufacturer_name": company.name,
                    "gtin": gtin,
                    "product_name": name,
                    "model": f"{company.series}-{stem}",
                    "product_category": "lithium-battery",
                    "granularity": granularity,
                    "declared_unit": "kilowatt hour",
                    "declared_amount": "1",
                    "product_mass": str(dec(kg_per_kwh * rng.uniform(0.96, 1.04), 2)),
                    "boundary": "cradle-to-gate",
                    "boundary_description": BATTERY_BOUNDARY,
                    "pcf_excluding_biogenic": str(total),
                    "pcf_including_biogenic": str(total - dec(rng.uniform(0.05, 0.3))),
                    "fossil_ghg": str(dec(float(total) * rng.uniform(0.975, 0.99))),
                    "stage_raw_material": str(raw),
                    "stage_manufacturing": str(total - raw),
                    "reference_period_start": "2024-01-01T00:00:00Z",
                    "reference_period_end": "2025-01-01T00:00:00Z",
                    "product_rule_names": "锂离子电池产品碳足迹核算规则 (illustrative)",
                    "primary_data_share": str(dec(rng.uniform(40.0, 70.0))),
                    **common_columns(
                        rng, index, rng.choice(bodies), sellers, f"{gtin}|{granularity}"
                    ),
                }
                if granularity == "batch":
                    row["batch"] = f"{chemistry}25{rng.randint(1, 9):02d}{rng.randint(1, 999):03d}"
                    row["reference_period_start"] = "2025-01-01T00:00:00Z"
                    row["reference_period_end"] = "2025-04-01T00:00:00Z"
                index += 1
                yield row


def rows(seed: int = SEED) -> list[dict[str, str]]:
    """Every row of the example batch, as CSV cells by column."""
    rng = random.Random(seed)
    ac_makers, battery_makers, bodies, distributors = make_parties(rng)
    result = [*ac_rows(rng, ac_makers, bodies, distributors)]
    result.extend(battery_rows(rng, battery_makers, bodies, distributors))
    return result


def write(path: Path, seed: int = SEED) -> int:
    """Write the batch to ``path``; returns the number of rows."""
    generated = rows(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(generated)
    return len(generated)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT, help=f"output CSV (default {OUT})")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    count = write(args.out, args.seed)
    print(f"wrote {count} rows to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
