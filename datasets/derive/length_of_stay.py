#!/usr/bin/env python3
"""Derive datasets/length_of_stay.csv: mean length of stay of an emergency admission by
five-year age band, for capsim (issue 24, item 8).

Run from anywhere:   python3 datasets/derive/length_of_stay.py
Standard library only, deterministic. It reads activity_rates.csv and
population_age_sex.csv (the emergency admissions of England by band) and writes
length_of_stay.csv. The per-band figures of NHS Digital's Hospital Admitted Patient Care
Activity could not be read here, so the age profile below is an ASSUMPTION shaped by the
published pattern (datasets/README.md, length_of_stay.csv):
  - children's unplanned stays average about 1-1.6 days (a table of unplanned paediatric
    admissions, 2011-12, on annfammed.org: 1.5 days under 1, 1.0 at 1-4, 1.2 at 5-9, 1.6 at
    10-14), kept unscaled below 15;
  - stays lengthen steadily with age in adults, to about twice the national mean at 85+
    (assumption, remembered pattern of HES, not read);
and scaled (ages 15+ only) so that the admission-weighted mean over England equals
NATIONAL_MEAN, the 4.5 days the model used for everyone before (an assumption of the
order of the HES mean stay of emergency admissions, zero-day stays included).
"""
import csv
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)

NATIONAL_MEAN = 4.5
# band: (relative profile, scaled?) -- children fixed at the read paediatric means.
PROFILE = [
    ("0-4", 1.1, False),   # 1.5 (<1) and 1.0 (1-4), weighted to about 1.1 (<1s are ~a third)
    ("5-9", 1.2, False),
    ("10-14", 1.6, False),
    ("15-19", 1.8, True),
    ("20-24", 2.0, True),
    ("25-29", 2.2, True),
    ("30-34", 2.4, True),
    ("35-39", 2.7, True),
    ("40-44", 3.0, True),
    ("45-49", 3.4, True),
    ("50-54", 3.9, True),
    ("55-59", 4.4, True),
    ("60-64", 5.0, True),
    ("65-69", 5.7, True),
    ("70-74", 6.5, True),
    ("75-79", 7.4, True),
    ("80-84", 8.3, True),
    ("85-89", 9.1, True),
    ("90+", 9.6, True),
]
SOURCE_CHILD = ("unplanned paediatric stays 2011-12 (annfammed.org table [S]); "
                "assumption for England today")
SOURCE_ADULT = ("assumption: rising-with-age profile scaled so the England admission-weighted "
                "mean is 4.5 days (README)")


def read(name):
    with open(os.path.join(OUT, name), newline="") as f:
        return list(csv.DictReader(f))


def main():
    pop = {r["age_band"]: float(r["male"]) + float(r["female"]) for r in read("population_age_sex.csv")}
    by_sex = {r["age_band"]: (float(r["male"]), float(r["female"])) for r in read("population_age_sex.csv")}
    adm = {b: 0.0 for b in pop}
    for r in read("activity_rates.csv"):
        if r["setting"] == "emergency_admissions":
            m, f = by_sex[r["age_band"]]
            adm[r["age_band"]] += (m if r["sex"] == "male" else f) * float(r["rate"])
    fixed = sum(adm[b] * v for b, v, s in PROFILE if not s)
    scaled = sum(adm[b] * v for b, v, s in PROFILE if s)
    total = sum(adm.values())
    k = (NATIONAL_MEAN * total - fixed) / scaled
    rows = []
    for b, v, s in PROFILE:
        rows.append((b, round(v * k, 2) if s else v, SOURCE_ADULT if s else SOURCE_CHILD))
    mean = sum(adm[b] * d for b, d, _ in rows) / total
    with open(os.path.join(OUT, "length_of_stay.csv"), "w", newline="") as f:
        f.write("age_band,mean_days,source\n")
        for b, d, src in rows:
            f.write(f"{b},{d:g},{src}\n")
    print(f"scale on ages 15+: {k:.4f}")
    print(f"England emergency admissions {total:,.0f}; bed days {total * mean:,.0f}; "
          f"admission-weighted mean stay {mean:.3f} days")
    for b, d, _ in rows:
        print(f"  {b:>6} {d:5.2f} days, {adm[b] / total:6.1%} of admissions")


if __name__ == "__main__":
    main()
