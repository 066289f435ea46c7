#!/usr/bin/env python3
"""Bundle NHS England's practice-level weighted populations (2024/25) for capsim.

Usage:  python3 datasets/derive/practices.py ORIGINAL.csv
where ORIGINAL.csv is `data/2024_2025.csv` of the public GitHub repository
nhsx/AIF_Allocation_Tool (NHS England, ICB place-based allocation tool; Open Government
Licence v3): clone that repository anywhere and pass the path of its
`data/2024_2025.csv`.

It writes datasets/practices_2024_25.csv.gz: the columns capsim reads (KEEP, under their
published names, so a later publication reads the same way), every cell copied as
published text (no number is re-formatted), rows in the published order. The gzip has no
file name and a zero time stamp, so running it again gives identical bytes.
Standard library only.
"""
import csv
import gzip
import io
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "practices_2024_25.csv.gz")

KEEP = [
    "Practice_Code", "GP_Practice_Name", "Latitude", "Longitude",
    "CCG21", "Former CCG", "ICS22", "ICS22name", "R22", "Region22", "LAD21", "LTLA21",
    "pop 2022/23", "G&A WP", "CS WP", "MH WP", "Mat WP", "Health Ineq WP", "Prescr WP",
    "Final WP", "Primary Medical Care WP", "Final PMC WP",
]


def main(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    missing = [c for c in KEEP if c not in rows[0]]
    if missing:
        sys.exit(f"{path}: missing columns {missing}")
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(KEEP)
    for r in rows:
        w.writerow([r[c] for c in KEEP])
    data = text.getvalue().encode("utf-8")
    with open(OUT, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(data)
    pop = sum(float(r["pop 2022/23"]) for r in rows)
    print(f"{OUT}: {len(rows)} practices, {len({r['ICS22'] for r in rows})} ICBs, "
          f"{len({r['CCG21'] for r in rows})} sub-ICB locations, "
          f"{len({r['LAD21'] for r in rows})} local authorities, "
          f"pop 2022/23 sums to {pop:.6f}; {len(data)} bytes of CSV, "
          f"{os.path.getsize(OUT)} gzipped")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
