#!/usr/bin/env python3
"""Derive capsim's bundled default parameter datasets.

Run from anywhere:   python3 datasets/derive/derive.py
It (re)writes every CSV in datasets/ and datasets/derive/checks.txt, deterministically
(standard library only, no randomness).  Every hand-chosen number below is either a
published figure (see the SOURCES comments and datasets/README.md) or an assumption
listed in datasets/README.md.
"""
import csv
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)

BANDS = ["0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44",
         "45-49", "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+"]
SEXES = ["male", "female"]
SEGMENTS = ["healthy", "maternity_infancy", "acute_episode", "stable_ltc",
            "complex_multimorbidity", "frailty", "end_of_life"]
SETTINGS = ["gp_appointments", "other_primary_care", "community_nursing",
            "community_mental_health", "ae_attendances", "emergency_admissions",
            "emergency_bed_days", "elective_admissions", "outpatient_attendances",
            "home_care_hours", "care_home_weeks"]
RATE_SETTINGS = [s for s in SETTINGS if s != "emergency_bed_days"]
GROUPS = [(0, 17), (18, 44), (45, 64), (65, 79), (80, 100)]

CHECKS = []


def log(msg=""):
    CHECKS.append(msg)
    print(msg)


def band_of_age(a):
    return BANDS[min(a // 5, 18)]


def band_ages(b):
    if b == "90+":
        return list(range(90, 101))
    lo = int(b.split("-")[0])
    return list(range(lo, lo + 5))


def group_of_age(a):
    for g, (lo, hi) in enumerate(GROUPS):
        if lo <= a <= hi:
            return g
    raise ValueError(a)


def fmt(x, nd=6):
    """Fixed decimals, trailing zeros stripped, never '-0'."""
    s = f"{x:.{nd}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s


def round_to_sum(values, nd=6, total=1.0):
    """Largest-remainder rounding of non-negative values (already summing ~total) to nd
    decimals so that the rounded values sum to `total` exactly in integer units."""
    unit = 10 ** nd
    s = sum(values)
    scaled = [v / s * total * unit for v in values]
    fl = [math.floor(x) for x in scaled]
    rem = int(round(total * unit)) - sum(fl)
    order = sorted(range(len(values)), key=lambda i: -(scaled[i] - fl[i]))
    for i in order[:rem]:
        fl[i] += 1
    return [f / unit for f in fl], fl


def write_csv(name, header, rows):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            cells = [str(c) for c in r]
            for c in cells:
                assert "\n" not in c and '"' not in c, (name, c)
            # A cell with a comma (a source in words) is quoted, as CSV readers expect.
            f.write(",".join(f'"{c}"' if "," in c else c for c in cells) + "\n")
    return path


# ---------------------------------------------------------------------------
# 1. Population, England mid-2023, by five-year band and sex
# ---------------------------------------------------------------------------
# SOURCE (total): ONS mid-2023 population estimates, England 57,690,300 [P].
# SOURCE (90+): ONS Estimates of the very old, E&W 2023: 551,758 aged 90+ and 14,850
#   centenarians [P]; England taken as ~94.5% of E&W (assumption) = ~521,000, 34.5% male
#   (assumption).
# The band structure below is an APPROXIMATION of the ONS mid-2023 England structure
# (thousands, reconstructed, not copied from the ONS table) scaled to the published total.
POP_TOTAL = 57_690_300
POP_90PLUS = (180_000, 341_000)
POP_K = {  # thousands, male, female (relative structure; 90+ fixed separately)
    "0-4": (1590, 1512), "5-9": (1747, 1662), "10-14": (1840, 1748), "15-19": (1730, 1640),
    "20-24": (1800, 1745), "25-29": (1910, 1975), "30-34": (1975, 2080), "35-39": (1935, 2010),
    "40-44": (1850, 1870), "45-49": (1745, 1785), "50-54": (1900, 1960), "55-59": (1910, 1965),
    "60-64": (1650, 1715), "65-69": (1410, 1505), "70-74": (1310, 1445), "75-79": (1060, 1230),
    "80-84": (690, 850), "85-89": (378, 528),
}


def build_population():
    rest_total = POP_TOTAL - sum(POP_90PLUS)
    cells = [(b, s) for b in BANDS[:-1] for s in range(2)]
    raw = [POP_K[b][s] for b, s in cells]
    scale = rest_total / (sum(raw) * 1000)
    exact = [v * 1000 * scale for v in raw]
    # round to nearest 10 then fix remainder on the largest cell
    fl = [int(round(x / 10.0)) * 10 for x in exact]
    diff = rest_total - sum(fl)
    fl[cells.index(("30-34", 1))] += diff
    pop = {b: [0, 0] for b in BANDS}
    for (b, s), v in zip(cells, fl):
        pop[b][s] = v
    pop["90+"] = list(POP_90PLUS)
    assert sum(sum(v) for v in pop.values()) == POP_TOTAL
    return pop


POP = build_population()

# ---------------------------------------------------------------------------
# 2. Life table qx 0..100 (100 = 100+)
# ---------------------------------------------------------------------------
# Anchors approximate ONS National life tables 2021-23 (approximate anchor points, unverified [U]:
# q0 .004/.0035, q70 .019/.012, q80 .052/.038, q90 .16/.13); intermediate anchors are
# assumptions giving an infant dip, an accident hump near 20 and Gompertz ageing; ages
# 35-99 are then scaled by LT_SCALE so that e0 is close to ONS 79.0 / 83.0 (E&W 2021-23 [P])
# while deaths on the mid-2023 population land near the 544,054 registered (2023 [P]).
ANCH_M = {0: 0.0042, 1: 0.00025, 4: 0.00010, 8: 0.00007, 12: 0.00009, 15: 0.00020,
          19: 0.00050, 22: 0.00060, 27: 0.00072, 32: 0.00095, 37: 0.00135, 42: 0.00195,
          47: 0.00290, 52: 0.0043, 57: 0.0064, 62: 0.0097, 67: 0.0140, 70: 0.019,
          75: 0.030, 80: 0.052, 85: 0.090, 90: 0.160, 95: 0.262, 100: 0.40}
ANCH_F = {0: 0.0035, 1: 0.00020, 4: 0.00008, 8: 0.00006, 12: 0.00007, 15: 0.00013,
          19: 0.00020, 22: 0.00022, 27: 0.00030, 32: 0.00045, 37: 0.00075, 42: 0.00118,
          47: 0.00185, 52: 0.0028, 57: 0.0041, 62: 0.0060, 67: 0.0088, 70: 0.012,
          75: 0.0205, 80: 0.038, 85: 0.072, 90: 0.130, 95: 0.225, 100: 0.36}
LT_SCALE = 1.04


def pchip(xs, ys, x):
    n = len(xs)
    h = [xs[i + 1] - xs[i] for i in range(n - 1)]
    d = [(ys[i + 1] - ys[i]) / h[i] for i in range(n - 1)]
    m = [0.0] * n
    m[0], m[-1] = d[0], d[-1]
    for i in range(1, n - 1):
        if d[i - 1] * d[i] <= 0:
            m[i] = 0.0
        else:
            w1 = 2 * h[i] + h[i - 1]
            w2 = h[i] + 2 * h[i - 1]
            m[i] = (w1 + w2) / (w1 / d[i - 1] + w2 / d[i])
    for i in range(n - 1):
        if xs[i] <= x <= xs[i + 1]:
            t = (x - xs[i]) / h[i]
            return ((2 * t ** 3 - 3 * t ** 2 + 1) * ys[i] + (t ** 3 - 2 * t ** 2 + t) * h[i] * m[i]
                    + (-2 * t ** 3 + 3 * t ** 2) * ys[i + 1] + (t ** 3 - t ** 2) * h[i] * m[i + 1])
    raise ValueError(x)


def make_qx(anch):
    a2 = {a: (v * LT_SCALE if 35 <= a < 100 else v) for a, v in anch.items()}
    xs = sorted(a2)
    ys = [math.log(a2[x]) for x in xs]
    return [round(math.exp(pchip(xs, ys, a)), 6) for a in range(101)]


QX = [make_qx(ANCH_M), make_qx(ANCH_F)]


def lx(q):
    out = [1.0]
    for a in range(100):
        out.append(out[-1] * (1 - q[a]))
    return out


def life_expectancy(q, start=0):
    lxs = lx(q)
    e = 0.0
    for a in range(start, 100):
        d = lxs[a] * q[a]
        e += lxs[a] - (0.9 if a == 0 else 0.5) * d
    e += lxs[100] / q[100]
    return e / lxs[start]


def single_year_pop():
    """Split bands into single years: uniform below 60, life-table shape 60+,
    and 100+ set to 2.69% of 90+ (ONS centenarians 14,850 / 551,758 E&W 2023)."""
    out = [[0.0] * 101, [0.0] * 101]
    for s in range(2):
        L = lx(QX[s])
        for b in BANDS:
            ages = band_ages(b)
            if b == "90+":
                w = [L[a] * (1 - QX[s][a] / 2) for a in range(90, 100)]
                w.append(sum(w) * 0.0269 / (1 - 0.0269))
            elif ages[0] >= 60:
                w = [L[a] * (1 - QX[s][a] / 2) for a in ages]
            else:
                w = [1.0] * 5
            tot = POP[b][s]
            for a, wi in zip(ages, w):
                out[s][a] = tot * wi / sum(w)
    return out


POP1 = single_year_pop()

# ---------------------------------------------------------------------------
# 3. Fertility, E&W 2023 ASFRs (births per woman per year)
# ---------------------------------------------------------------------------
# SOURCE: ONS Births in England and Wales 2023 [P]: TFR 1.44, mean age of mother 30.9;
# 20-24 rate 38.6 per 1,000 (ONS via press reports [S]).  Other bands: assumption shaped
# on recent ONS ASFRs and scaled so that TFR = 5*sum(ASFR) = 1.44 exactly.
ASFR_RAW = {"15-19": 9.0, "20-24": 38.6, "25-29": 74.0, "30-34": 97.0, "35-39": 57.0,
            "40-44": 14.0, "45-49": 1.2}


def build_asfr():
    target_sum = 1.44 / 5 * 1000  # 288 per 1,000
    fixed = ASFR_RAW["20-24"]
    others = sum(v for k, v in ASFR_RAW.items() if k != "20-24")
    k = (target_sum - fixed) / others
    out = {}
    for b, v in ASFR_RAW.items():
        out[b] = round((v if b == "20-24" else v * k) / 1000, 5)
    # force exact TFR by adjusting 30-34
    out["30-34"] = round(out["30-34"] + (0.288 - sum(out.values())), 5)
    return out


ASFR = build_asfr()
# England share of E&W births (assumption): England is 94.8% of the E&W population
# and has a slightly higher TFR than Wales (1.39), so ~95.3% of births.
ENGLAND_BIRTHS = int(round(591_072 * 0.953, -2))

# ---------------------------------------------------------------------------
# 4. Migration (neighbourhood gross in/out rates) -- assumption based
# ---------------------------------------------------------------------------
# gross turnover per band (mean of in and out) and net rate per band (in - out).
MIG_GROSS = {"0-4": .085, "5-9": .055, "10-14": .045, "15-19": .10, "20-24": .19, "25-29": .17,
             "30-34": .12, "35-39": .08, "40-44": .06, "45-49": .05, "50-54": .04, "55-59": .035,
             "60-64": .035, "65-69": .03, "70-74": .025, "75-79": .025, "80-84": .03,
             "85-89": .04, "90+": .045}
MIG_NET = {"0-4": .012, "5-9": .006, "10-14": .005, "15-19": .014, "20-24": .035, "25-29": .030,
           "30-34": .020, "35-39": .011, "40-44": .006, "45-49": .004, "50-54": .002,
           "55-59": .0005, "60-64": 0.0, "65-69": -.001, "70-74": -.0005, "75-79": 0.0,
           "80-84": 0.0, "85-89": 0.0, "90+": 0.0}
MIG_NET_TARGET = 0.0065  # assumption: between the 2023 peak (~+1.0%) and ONS long-term projection levels (~+0.5%)
MIG_MALE_YOUNG = 1.05    # males 20-34 move slightly more (assumption)


def build_migration():
    tot = sum(POP[b][0] + POP[b][1] for b in BANDS)
    net_raw = sum(MIG_NET[b] * (POP[b][0] + POP[b][1]) for b in BANDS)
    k = MIG_NET_TARGET * tot / net_raw
    rows = []
    for b in BANDS:
        for s, sex in enumerate(SEXES):
            g = MIG_GROSS[b] * (MIG_MALE_YOUNG if s == 0 and b in ("20-24", "25-29", "30-34") else 1.0)
            n = MIG_NET[b] * k
            rows.append((b, sex, round(g + n / 2, 5), round(g - n / 2, 5)))
    return rows


MIGRATION = build_migration()

# ---------------------------------------------------------------------------
# 5. Segments
# ---------------------------------------------------------------------------
SEG_LABEL = {"healthy": "Healthy", "maternity_infancy": "Maternity and infancy",
             "acute_episode": "Acute episode", "stable_ltc": "Stable long-term condition",
             "complex_multimorbidity": "Complex multimorbidity", "frailty": "Frailty",
             "end_of_life": "End of life"}
# relative mortality (assumption; see README for the implied death probabilities)
SEG_MORT = {"healthy": 0.3, "maternity_infancy": 0.5, "acute_episode": 1.5, "stable_ltc": 1.0,
            "complex_multimorbidity": 3.0, "frailty": 5.0, "end_of_life": 15.0}
# Health-related quality of life (EQ-5D utility, 1 = full health) by segment: assumption,
# in the range of English population norms (about 0.86 on average; Janssen, Szende and
# Ramos-Goni, Self-reported population health, 2014) and of published EQ-5D values for
# long-term conditions, multimorbidity, frailty and the last year of life.
SEG_UTILITY = {"healthy": 0.90, "maternity_infancy": 0.90, "acute_episode": 0.75,
               "stable_ltc": 0.78, "complex_multimorbidity": 0.60, "frailty": 0.50,
               "end_of_life": 0.30}
H, M, A, S, C, F, E = range(7)

# Target prevalence by band (assumption; healthy = remainder; maternity for 0-4 comes
# from the newborn dynamics and is not targeted).  Columns: mat, acute, stable, complex, frailty
# Acute episodes are concentrated in otherwise-healthy people (Bridges to Health: acute
# illness in the mostly healthy), so acute prevalence stays modest in old age, where acute
# illness mostly happens to people already in a chronic segment.
PREV_TARGET = {
    "0-4": (None, .050, .040, .003, .0008), "5-9": (None, .035, .070, .004, .0008),
    "10-14": (None, .035, .090, .005, .0008), "15-19": (None, .040, .100, .006, .0010),
    "20-24": (.029, .040, .110, .008, .0010), "25-29": (.029, .040, .130, .010, .0012),
    "30-34": (.029, .040, .150, .013, .0015), "35-39": (.029, .042, .180, .018, .0020),
    "40-44": (.029, .045, .220, .025, .0030), "45-49": (None, .045, .270, .035, .0040),
    "50-54": (None, .048, .320, .050, .0060), "55-59": (None, .050, .370, .070, .0090),
    "60-64": (None, .050, .410, .090, .0130), "65-69": (None, .050, .450, .120, .0250),
    "70-74": (None, .050, .460, .160, .0450), "75-79": (None, .050, .430, .210, .0850),
    "80-84": (None, .048, .360, .250, .1500), "85-89": (None, .045, .270, .270, .2500),
    "90+": (None, .040, .170, .250, .3700),
}
EOL_TARGET_FACTOR = 1.0  # end_of_life share ~ annual death probability of the band

# Fixed (judgement) transition entries per age group; fitted entries are added by build_T.
# FIXED[g][from][to] = probability.  The diagonal is the remainder.
FIXED = {
    0: {M: {H: 0.62, A: 0.03, S: 0.04, C: 0.003},
        A: {H: 0.58, S: 0.06, C: 0.005},
        S: {H: 0.05, A: 0.02},
        C: {S: 0.06, A: 0.015},
        F: {C: 0.04}},
    1: {M: {H: 0.62, A: 0.02, S: 0.03, C: 0.002},
        A: {H: 0.52, S: 0.11, C: 0.01},
        S: {H: 0.012, A: 0.02},
        C: {S: 0.04, A: 0.015},
        F: {C: 0.03}},
    2: {M: {H: 0.60, A: 0.03, S: 0.05, C: 0.005},
        A: {H: 0.42, S: 0.18, C: 0.03},
        S: {H: 0.006, A: 0.02},
        C: {S: 0.025, A: 0.01},
        F: {C: 0.02}},
    3: {M: {H: 0.60},
        A: {H: 0.30, S: 0.24, C: 0.08},
        S: {H: 0.003, A: 0.015},
        C: {S: 0.015, A: 0.008},
        F: {C: 0.015}},
    4: {M: {H: 0.60},
        A: {H: 0.18, S: 0.24, C: 0.14},
        S: {H: 0.002, A: 0.01},
        C: {S: 0.01, A: 0.005},
        F: {C: 0.01}},
}
# Relative weights of the fitted flows (one scale per age group):
#   frailty inflow      fr  x {healthy 0.05, acute 1.5, stable 1, complex 3}
#   end-of-life inflow  eol x {healthy 0.02, maternity 0.05, acute 0.5, stable 0.15,
#                              complex 1, frailty 2}
FRAIL_BASE = {H: 0.05, A: 1.5, S: 1.0, C: 3.0}
EOL_BASE = {H: 0.02, M: 0.05, A: 0.5, S: 0.15, C: 1.0, F: 2.0}


def build_T(g, p):
    """Transition matrix of age group g from fixed entries plus fitted rates p:
    ha healthy->acute, hs healthy->stable (4% of it goes to complex instead), sc
    stable->complex, fr frailty-inflow scale, eol end-of-life-inflow scale, hm
    healthy->maternity (18-44 only)."""
    T = [[0.0] * 7 for _ in range(7)]
    for r, row in FIXED[g].items():
        for c, v in row.items():
            T[r][c] = v
    T[H][A] += p["ha"]
    T[H][S] += p["hs"]
    T[H][C] += p["hs"] * 0.04
    T[H][M] += p.get("hm", 0.0)
    T[S][C] += p["sc"]
    for r, w in FRAIL_BASE.items():
        T[r][F] += p["fr"] * w
    for r, w in EOL_BASE.items():
        T[r][E] += p["eol"] * w
    T[E] = [0.0] * 7
    for r in range(7):
        T[r][r] = 0.0
        T[r][r] = 1.0 - sum(T[r])
    return T


QALL = [(POP1[0][a] * QX[0][a] + POP1[1][a] * QX[1][a]) / (POP1[0][a] + POP1[1][a]) for a in range(101)]
PALL = [POP1[0][a] + POP1[1][a] for a in range(101)]


def band_q(b):
    ages = band_ages(b)
    return sum(PALL[a] * QALL[a] for a in ages) / sum(PALL[a] for a in ages)


def targets():
    t = {}
    for b in BANDS:
        mat, ac, st, cx, fr = PREV_TARGET[b]
        eol = EOL_TARGET_FACTOR * band_q(b)
        t[b] = [None, mat, ac, st, cx, fr, eol]
    return t


TARGET = targets()


def death_probs(a, bandprev):
    """Segment-specific death probability at single age a under the model's normalisation
    (life-table q x multiplier / prevalence-weighted mean multiplier of the band), capped at 1."""
    b = band_of_age(a)
    mbar = sum(bandprev[b][s] * SEG_MORT[SEGMENTS[s]] for s in range(7))
    return [min(1.0, QALL[a] * SEG_MORT[SEGMENTS[s]] / mbar) for s in range(7)]


def step(x, T, d):
    surv = [x[s] * (1 - d[s]) for s in range(7)]
    y = [sum(surv[r] * T[r][c] for r in range(7)) for c in range(7)]
    tot = sum(y)
    return [v / tot for v in y]


def cohort(Ts, bandprev):
    """Stationary single-age profile: newborns all in maternity_infancy, then
    mortality -> transition -> ageing each year; age 100 is an open (absorbing) age."""
    x = [[0.0] * 7 for _ in range(101)]
    x[0] = [0, 1, 0, 0, 0, 0, 0]
    for a in range(100):
        x[a + 1] = step(x[a], Ts[group_of_age(a)], death_probs(a, bandprev))
    # open age 100: survivors of 99 plus survivors staying at 100
    d99 = death_probs(99, bandprev)
    d100 = death_probs(100, bandprev)
    T = Ts[4]
    in99 = [x[99][s] * (1 - d99[s]) * PALL[99] for s in range(7)]
    cur = [v for v in x[100]]
    for _ in range(200):
        stay = [cur[s] * (1 - d100[s]) * PALL[100] for s in range(7)]
        tot_in = [in99[s] + stay[s] for s in range(7)]
        y = [sum(tot_in[r] * T[r][c] for r in range(7)) for c in range(7)]
        t = sum(y)
        cur = [v / t for v in y]
    x[100] = cur
    return x


def band_avg(x, b):
    ages = band_ages(b)
    w = sum(PALL[a] for a in ages)
    return [sum(PALL[a] * x[a][s] for a in ages) / w for s in range(7)]


def profile_to_bandprev(x):
    return {b: band_avg(x, b) for b in BANDS}


INIT_PARAMS = [
    {"ha": 0.02, "hs": 0.01, "sc": 0.005, "fr": 0.0003, "eol": 0.00005},
    {"ha": 0.03, "hs": 0.015, "sc": 0.006, "fr": 0.0005, "eol": 0.0001, "hm": 0.02},
    {"ha": 0.03, "hs": 0.03, "sc": 0.015, "fr": 0.001, "eol": 0.0005},
    {"ha": 0.04, "hs": 0.05, "sc": 0.04, "fr": 0.005, "eol": 0.002},
    {"ha": 0.05, "hs": 0.06, "sc": 0.08, "fr": 0.02, "eol": 0.01},
]


def objective(x, g):
    lo, hi = GROUPS[g]
    err = 0.0
    for b in BANDS:
        ages = [a for a in band_ages(b) if lo <= a <= hi]
        if not ages:
            continue
        w = sum(PALL[a] for a in ages)
        p = [sum(PALL[a] * x[a][s] for a in ages) / w for s in range(7)]
        for s in range(1, 7):
            t = TARGET[b][s]
            if t is None:
                continue
            err += len(ages) * ((p[s] - t) / (t + 0.003)) ** 2
    return err


def fit_segments():
    params = [dict(p) for p in INIT_PARAMS]
    bandprev = {}
    for b in BANDS:
        row = [0.0] + [v if v is not None else 0.0 for v in TARGET[b][1:]]
        if b == "0-4":
            row[M] = 0.28
        row[H] = 1 - sum(row)
        bandprev[b] = row
    for outer in range(4):
        for g in range(5):
            keys = sorted(params[g])
            stepf = 1.6

            def run():
                Ts = [build_T(k, params[k]) for k in range(5)]
                return cohort(Ts, bandprev)
            best = objective(run(), g)
            while stepf > 1.0005:
                improved = False
                for k in keys:
                    for mult in (stepf, 1 / stepf):
                        old = params[g][k]
                        params[g][k] = old * mult
                        Ts = [build_T(kk, params[kk]) for kk in range(5)]
                        if min(Ts[g][r][r] for r in range(7)) < 0.3:
                            params[g][k] = old
                            continue
                        val = objective(run(), g)
                        if val < best - 1e-12:
                            best = val
                            improved = True
                        else:
                            params[g][k] = old
                if not improved:
                    stepf = math.sqrt(stepf)
        Ts = [build_T(k, params[k]) for k in range(5)]
        x = cohort(Ts, bandprev)
        bandprev = profile_to_bandprev(x)
    return params, Ts, x, bandprev


# ---------------------------------------------------------------------------
# 6. Deprivation
# ---------------------------------------------------------------------------
# Morbidity multipliers: assumption (values suggested in the project brief); the model
# scales deteriorating transitions and the starting prevalence of non-healthy segments by
# them (normalised to an equal-share mean of 1).
DEP_MORB = [1.4, 1.2, 1.0, 0.9, 0.8]
# Mortality: the model multiplies death probability by this AND the deprived also sit in
# sicker segments (which carry higher segment multipliers), so the file holds a RESIDUAL
# gradient: shape [1.6,1.25,1,.85,.7]^alpha with alpha chosen so that the model's
# male life expectancy gap between quintiles 1 and 5 is LE_GAP_TARGET years.
DEP_MORT_SHAPE = [1.6, 1.25, 1.0, 0.85, 0.7]
LE_GAP_TARGET = 8.0  # assumption from ONS decile gap 9.7 y (men, 2018-20) [U]


def norm_mean(v):
    m = sum(v) / len(v)
    return [x / m for x in v]


def scaled_T(T, morb_rel):
    out = []
    for r in range(7):
        row = [T[r][c] * (morb_rel if c > r else 1.0) for c in range(7)]
        row[r] = 0.0
        row[r] = 1.0 - sum(row)
        assert row[r] >= 0
        out.append(row)
    return out


def seg_mean_mult(prev_b):
    return sum(prev_b[s] * SEG_MORT[SEGMENTS[s]] for s in range(7))


def model_q(sex, a, s, dep_rel, prev):
    b = band_of_age(a)
    return min(1.0, QX[sex][a] * SEG_MORT[SEGMENTS[s]] / seg_mean_mult(prev[b]) * dep_rel)


def quintile_le(Ts, prev, dep_mort, sex):
    dep_rel = norm_mean(dep_mort)
    morb_rel = norm_mean(DEP_MORB)
    out = []
    for q in range(5):
        TQ = [scaled_T(T, morb_rel[q]) for T in Ts]
        x = [0, 1.0, 0, 0, 0, 0, 0]
        e = 0.0
        for a in range(100):
            d = [model_q(sex, a, s, dep_rel[q], prev) for s in range(7)]
            deaths = sum(x[s] * d[s] for s in range(7))
            alive = sum(x)
            e += alive - (0.9 if a == 0 else 0.5) * deaths
            surv = [x[s] * (1 - d[s]) for s in range(7)]
            T = TQ[group_of_age(a)]
            x = [sum(surv[r] * T[r][c] for r in range(7)) for c in range(7)]
        d = [model_q(sex, 100, s, dep_rel[q], prev) for s in range(7)]
        alive = sum(x)
        dbar = sum(x[s] * d[s] for s in range(7)) / alive
        e += alive / dbar
        out.append(e)
    return out


def fit_dep_mort(Ts, prev):
    lo, hi = 0.0, 2.0
    for _ in range(40):
        mid = (lo + hi) / 2
        mort = [round(v ** mid, 3) for v in DEP_MORT_SHAPE]
        le = quintile_le(Ts, prev, mort, 0)
        if le[4] - le[0] < LE_GAP_TARGET:
            lo = mid
        else:
            hi = mid
    alpha = (lo + hi) / 2
    return alpha, [round(v ** alpha, 3) for v in DEP_MORT_SHAPE]


# ---------------------------------------------------------------------------
# 7. Activity: age-sex profiles (relative shape; assumption unless stated), national totals
# ---------------------------------------------------------------------------
def mf(m, f=None):
    return (m, f if f is not None else m)


# Carr-Hill age-sex workload weights (Formula Review Group 2007 [U]),
# relative to males 5-14 = 1; females 5-14 1.05 is an assumption, and 0-4 is lowered from
# the workload weight 3.97/3.92 to 2.6/2.5 (assumption: the weight measures consultation
# time, and would imply ~9.6 appointments a year per under-5).
_CH = {"0-4": (2.6, 2.5), "5-14": (1.0, 1.05), "15-44": (1.02, 2.19), "45-64": (2.15, 3.06),
       "65-74": (4.19, 4.36), "75-84": (5.18, 5.31), "85+": (6.10, 5.52)}
_CH_MAP = {"0-4": "0-4", "5-9": "5-14", "10-14": "5-14", "15-19": "15-44", "20-24": "15-44",
           "25-29": "15-44", "30-34": "15-44", "35-39": "15-44", "40-44": "15-44",
           "45-49": "45-64", "50-54": "45-64", "55-59": "45-64", "60-64": "45-64",
           "65-69": "65-74", "70-74": "65-74", "75-79": "75-84", "80-84": "75-84",
           "85-89": "85+", "90+": "85+"}


def _zip(m, f):
    return {b: (m[i], f[i]) for i, b in enumerate(BANDS)}


PROFILES = {
    "gp_appointments": {b: _CH[_CH_MAP[b]] for b in BANDS},
    "other_primary_care": _zip(
        [.5, .9, .9, .7, .6, .65, .7, .75, .8, .85, .9, .95, 1.0, 1.1, 1.2, 1.25, 1.2, 1.0, .8],
        [.5, .9, .9, .8, .8, .85, .9, .95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.3, 1.25, 1.05, .85]),
    "community_nursing": _zip(
        [.5, .2, .2, .2, .25, .3, .35, .35, .4, .45, .55, .7, .9, 1.2, 1.8, 3.0, 5.2, 8.5, 12.5],
        [.5, .2, .2, .2, .3, .4, .45, .4, .45, .5, .6, .75, .95, 1.3, 1.9, 3.2, 5.6, 9.2, 13.5]),
    "community_mental_health": _zip(
        [.02, .15, .45, .75, .65, .6, .6, .6, .6, .55, .5, .4, .3, .25, .3, .45, .6, .65, .55],
        [.02, .12, .6, 1.0, .75, .65, .65, .6, .6, .55, .5, .4, .3, .25, .3, .45, .6, .65, .55]),
    "ae_attendances": _zip(
        [.62, .30, .33, .42, .48, .45, .42, .40, .38, .37, .37, .38, .40, .43, .50, .62, .80, 1.05, 1.30],
        [.55, .26, .31, .45, .50, .47, .44, .40, .37, .36, .35, .35, .37, .40, .47, .60, .80, 1.05, 1.30]),
    "emergency_admissions": _zip(
        [.16, .035, .035, .045, .05, .05, .052, .056, .062, .07, .08, .095, .115, .14, .18, .25, .34, .46, .60],
        [.14, .03, .04, .06, .065, .065, .062, .06, .062, .068, .075, .085, .10, .12, .16, .23, .32, .44, .57]),
    "elective_admissions": _zip(
        [.03, .03, .03, .04, .05, .06, .07, .09, .11, .14, .18, .23, .29, .35, .40, .42, .40, .34, .24],
        [.025, .025, .03, .05, .08, .10, .11, .12, .14, .17, .20, .23, .27, .31, .35, .37, .34, .27, .17]),
    "outpatient_attendances": _zip(
        [1.1, .7, .7, .8, .8, .9, 1.0, 1.1, 1.3, 1.5, 1.8, 2.2, 2.6, 3.0, 3.5, 3.9, 4.1, 3.9, 3.2],
        [1.0, .65, .75, 1.1, 1.6, 2.3, 2.7, 2.4, 1.9, 2.0, 2.2, 2.4, 2.7, 3.0, 3.3, 3.6, 3.7, 3.4, 2.7]),
    # social care: separate 18-64 and 65+ shapes calibrated to separate totals below
    "home_care_hours": _zip(
        [0, 0, 0, .1, .5, .5, .5, .5, .55, .6, .65, .7, .8, 1.0, 2.0, 4.5, 10, 20, 30],
        [0, 0, 0, .1, .5, .5, .5, .5, .55, .6, .65, .7, .8, 1.0, 2.1, 5.0, 11.5, 23, 36]),
    "care_home_weeks": _zip(
        [0, 0, 0, .05, .3, .35, .4, .45, .5, .55, .6, .7, .8, .4, .8, 1.8, 4.5, 10, 20],
        [0, 0, 0, .05, .3, .35, .4, .45, .5, .55, .6, .7, .8, .4, .85, 2.0, 5.2, 12.5, 25]),
}
# England annual totals used for calibration (see README for sources and marks)
EMERG_ADM = 6_300_000
ACT_TOTALS = {
    "gp_appointments": 353_000_000,          # NHS Digital Appointments in General Practice 2023/24 [S]
    "other_primary_care": 60_000_000,        # assumption
    "community_nursing": int(7_600_000 * 12 * 0.8),  # NHS Digital CSDS Feb 2023 [P] x 12 x 0.8 (assumption)
    "community_mental_health": 25_000_000,   # assumption
    "ae_attendances": 25_300_000,            # NHS Digital Hospital A&E Activity 2022-23 [S]
    "emergency_admissions": EMERG_ADM,       # Health Foundation 2018 [P] rolled forward (assumption)
    "elective_admissions": 16_400_000 - EMERG_ADM - 1_100_000,  # HES 2022/23 [P] less emergency less ~1.1M maternity/other (assumption)
    "outpatient_attendances": 95_900_000,    # HES via PQ 200113 2022/23 [P]
}
# social care split totals (assumption): (ages 18-64 total, ages 65+ total)
SOCIAL_TOTALS = {
    "home_care_hours": (80_000 * 12 * 52, 250_000 * 12 * 52),
    "care_home_weeks": (25_000 * 52, 274_000 * 52),
}
ADULT_BANDS = BANDS[3:13]   # 15-19 .. 60-64 (only 18-19 within 15-19 by profile)
OLD_BANDS = BANDS[13:]


def calibrate_rates():
    rates = {}
    for st in RATE_SETTINGS:
        prof = PROFILES[st]
        if st in SOCIAL_TOTALS:
            r = {}
            for part, bands in zip(SOCIAL_TOTALS[st], (BANDS[:13], OLD_BANDS)):
                denom = sum(prof[b][s] * POP[b][s] for b in bands for s in range(2))
                for b in bands:
                    r[b] = tuple(prof[b][s] * part / denom for s in range(2))
            rates[st] = r
        else:
            denom = sum(prof[b][s] * POP[b][s] for b in BANDS for s in range(2))
            rates[st] = {b: tuple(prof[b][s] * ACT_TOTALS[st] / denom for s in range(2)) for b in BANDS}
        # round to 6 significant-ish decimals
        rates[st] = {b: tuple(float(f"{v:.6g}") for v in rates[st][b]) for b in BANDS}
    return rates


# The simulator counts a person who dies or moves out during the year as exposed for half
# the year (and entrants for half), and counts exposure in the start-of-year segment.  High-use
# segments (frailty, end of life) die often, so with rates calibrated only to
# rate x population the simulator's year-one totals fall short (care homes by ~15%).  With
# this switch on, each (setting, band, sex) rate is scaled so that the simulator's expected
# year-one count equals rate_pop x population (see README).  Off by default: the files then
# follow the agreed convention rate x ONS population = national total.
CALIBRATE_TO_SIMULATOR = False


def calibrate_to_simulator(rates_pop, prev, Ts, dep_mort):
    rec = project(prev, Ts, dep_mort, rates_pop, years=1)[0]
    by = rec["activity_by_band"]
    out = {}
    for st in RATE_SETTINGS:
        out[st] = {}
        for b in BANDS:
            vals = []
            for s in range(2):
                r = rates_pop[st][b][s]
                m = by[st].get((b, s), 0.0)
                vals.append(float(f"{r * (r * POP[b][s]) / m:.6g}") if r > 0 and m > 0 else r)
            out[st][b] = tuple(vals)
    return out


def setting_total_target(st):
    if st in SOCIAL_TOTALS:
        return sum(SOCIAL_TOTALS[st])
    return ACT_TOTALS[st]


# Relative use by segment (assumption).  Order: healthy, maternity_infancy, acute_episode,
# stable_ltc, complex_multimorbidity, frailty, end_of_life
SEG_ACT = {
    "gp_appointments":         [0.5, 2.0, 2.0, 1.5, 2.5, 3.0, 3.5],
    "other_primary_care":      [0.9, 1.2, 1.1, 1.2, 1.3, 1.1, 0.6],
    "community_nursing":       [0.1, 1.5, 1.5, 1.0, 3.0, 6.0, 10.0],
    "community_mental_health": [0.4, 0.8, 1.5, 1.5, 2.5, 1.5, 1.0],
    "ae_attendances":          [0.5, 1.3, 2.5, 1.0, 2.0, 3.0, 3.5],
    "emergency_admissions":    [0.25, 1.0, 3.0, 1.0, 3.0, 4.5, 8.0],
    "elective_admissions":     [0.4, 1.5, 1.5, 1.2, 2.0, 1.2, 1.5],
    "outpatient_attendances":  [0.4, 3.0, 1.5, 1.3, 2.2, 1.5, 1.5],
    "home_care_hours":         [0.02, 0.05, 0.3, 0.2, 1.5, 8.0, 6.0],
    "care_home_weeks":         [0.01, 0.01, 0.1, 0.1, 1.0, 10.0, 8.0],
}
# Residual relative use by IMD quintile 1..5 (assumption): applied ON TOP of the extra
# morbidity of deprived quintiles (more people in sicker segments), see README.
DEP_ACT = {
    "gp_appointments":         [1.04, 1.02, 1.0, 0.99, 0.98],
    "other_primary_care":      [0.85, 0.92, 1.0, 1.05, 1.10],
    "community_nursing":       [1.02, 1.01, 1.0, 0.99, 0.98],
    "community_mental_health": [1.25, 1.10, 1.0, 0.92, 0.85],
    "ae_attendances":          [1.15, 1.06, 1.0, 0.95, 0.90],
    "emergency_admissions":    [1.05, 1.02, 1.0, 0.98, 0.96],
    "elective_admissions":     [0.85, 0.92, 1.0, 1.04, 1.08],
    "outpatient_attendances":  [0.92, 0.96, 1.0, 1.02, 1.04],
    "home_care_hours":         [1.05, 1.02, 1.0, 0.98, 0.96],
    "care_home_weeks":         [0.95, 0.98, 1.0, 1.02, 1.04],
}


# ---------------------------------------------------------------------------
# 8. Model replica: expected-value projection with the simulator's rules
# ---------------------------------------------------------------------------
AGE90_CONT = 0.78  # the simulator's synthesiser: P(next year of age) within 90+ (geometric)


def within_band_weights(b):
    ages = band_ages(b)
    if b == "90+":
        w = [AGE90_CONT ** i * (1 - AGE90_CONT) for i in range(10)] + [AGE90_CONT ** 10]
    else:
        w = [0.2] * 5
    return ages, w


def initial_shares(prev, morb_rel):
    """Starting segment shares per band for a quintile, as the simulator builds them."""
    out = {}
    for b in BANDS:
        row = [prev[b][s] * (morb_rel if s not in (H, M) else 1.0) for s in range(7)]
        total = sum(row)
        if total - row[H] <= 1.0:
            row[H] = 1.0 - (total - row[H])
        else:
            row = [v / total for v in row]
        out[b] = row
    return out


def project(prev, Ts, dep_mort, rates, years=10, migration=True):
    """Deterministic replica of the yearly loop: exits (death, out-migration), transitions,
    births, arrivals, ageing.  England population, equal IMD quintile shares.  Returns yearly
    records with expected deaths, births, activity (year 1 exposure rules) and prevalence."""
    dep_rel = norm_mean(dep_mort)
    morb_rel = norm_mean(DEP_MORB)
    TQ = [[scaled_T(T, morb_rel[q]) for T in Ts] for q in range(5)]
    init = [initial_shares(prev, morb_rel[q]) for q in range(5)]
    mig = {(b, SEXES.index(sx)): (i, o) for b, sx, i, o in MIGRATION}
    # state[sex][age][q][seg]
    st = [[[[0.0] * 7 for _ in range(5)] for _ in range(101)] for _ in range(2)]
    for b in BANDS:
        ages, w = within_band_weights(b)
        for s in range(2):
            for a, wi in zip(ages, w):
                for q in range(5):
                    for g in range(7):
                        st[s][a][q][g] = POP[b][s] * wi * 0.2 * init[q][b][g]
    qcache = {}
    for s in range(2):
        for a in range(101):
            for q in range(5):
                qcache[(s, a, q)] = [model_q(s, a, g, dep_rel[q], prev) for g in range(7)]
    records = []
    for year in range(1, years + 1):
        rec = {"deaths": 0.0, "deaths_uncapped": 0.0, "births": 0.0, "in": 0.0, "out": 0.0}
        # prevalence at start (census)
        seg_tot = [0.0] * 7
        band_seg = {b: [0.0] * 7 for b in BANDS}
        for s in range(2):
            for a in range(101):
                for q in range(5):
                    for g in range(7):
                        seg_tot[g] += st[s][a][q][g]
                        band_seg[band_of_age(a)][g] += st[s][a][q][g]
        rec["pop"] = sum(seg_tot)
        rec["prev"] = [v / rec["pop"] for v in seg_tot]
        rec["band_prev"] = {b: [v / sum(band_seg[b]) for v in band_seg[b]] for b in BANDS}
        # exposure [setting][q] expected counts
        expo = {}   # (band, sex, q, seg) -> exposure
        women = {b: [0.0] * 5 for b in BANDS}
        residents = {(b, s): 0.0 for b in BANDS for s in range(2)}
        new = [[[[0.0] * 7 for _ in range(5)] for _ in range(101)] for _ in range(2)]
        for s in range(2):
            for a in range(101):
                b = band_of_age(a)
                o_rate = mig[(b, s)][1] if migration else 0.0
                for q in range(5):
                    d = qcache[(s, a, q)]
                    T = TQ[q][group_of_age(a)]
                    surv = [0.0] * 7
                    for g in range(7):
                        n = st[s][a][q][g]
                        if n == 0.0:
                            continue
                        if s == 1:
                            women[b][q] += n
                        residents[(b, s)] += n
                        o = min(o_rate, 1 - d[g])
                        rec["deaths"] += n * d[g]
                        rec["deaths_uncapped"] += n * QX[s][a] * SEG_MORT[SEGMENTS[g]] / seg_mean_mult(prev[b]) * dep_rel[q]
                        rec["out"] += n * o
                        k = (b, s, q, g)
                        expo[k] = expo.get(k, 0.0) + n * (1 - 0.5 * (d[g] + o))
                        surv[g] = n * (1 - d[g] - o)
                    na = min(a + 1, 100)
                    for r in range(7):
                        if surv[r] == 0.0:
                            continue
                        for c in range(7):
                            if T[r][c]:
                                new[s][na][q][c] += surv[r] * T[r][c]
        # births
        for b, f in ASFR.items():
            for q in range(5):
                nb = women[b][q] * f
                rec["births"] += nb
                for s, share in ((0, MALE_BIRTH_SHARE), (1, 1 - MALE_BIRTH_SHARE)):
                    new[s][0][q][M] += nb * share
                    expo[(BANDS[0], s, q, M)] = expo.get((BANDS[0], s, q, M), 0.0) + 0.5 * nb * share
        # arrivals
        if migration:
            for b in BANDS:
                ages, w = within_band_weights(b)
                for s in range(2):
                    n_in = residents[(b, s)] * mig[(b, s)][0]
                    rec["in"] += n_in
                    for q in range(5):
                        for g in range(7):
                            v = n_in * 0.2 * init[q][b][g]
                            expo[(b, s, q, g)] = expo.get((b, s, q, g), 0.0) + 0.5 * v
                            for a, wi in zip(ages, w):
                                new[s][a][q][g] += v * wi
        if year == 1:
            rec["activity"] = expected_activity(expo, rates, prev)
            rec["activity_by_band"] = expected_activity(expo, rates, prev, by_band=True)
        st = new
        records.append(rec)
    return records


def expected_activity(expo, rates, prev, by_band=False):
    out = {}
    for stt in RATE_SETTINGS:
        dep_rel = norm_mean(DEP_ACT[stt])
        segm = SEG_ACT[stt]
        byq = [0.0] * 5
        bb = {}
        for (b, s, q, g), e in expo.items():
            smean = sum(prev[b][h] * segm[h] for h in range(7))
            v = e * rates[stt][b][s] * segm[g] / smean * dep_rel[q]
            byq[q] += v
            bb[(b, s)] = bb.get((b, s), 0.0) + v
        out[stt] = bb if by_band else byq
    if not by_band:
        out["emergency_bed_days"] = [v * EMERG_LOS_MEAN for v in out["emergency_admissions"]]
    return out


YEAR1 = {}
MALE_BIRTH_SHARE = 0.512     # assumption: sex ratio at birth ~105 boys per 100 girls
EMERG_LOS_MEAN = 4.5         # assumption (HES-based order of magnitude); since issue 24 the
                             # England admission-weighted mean of length_of_stay.csv
                             # (derive/length_of_stay.py), not a parameter


# ---------------------------------------------------------------------------
# 9. Settings (unit costs, 2023/24 prices)
# ---------------------------------------------------------------------------
UPLIFT_1617_TO_2324 = 1.30   # assumption: cumulative NHS cost inflation 2016/17 -> 2023/24
UPLIFT_2223_TO_2324 = 1.035  # assumption: one year of NHS cost inflation


def build_settings():
    gp = 0.5 * 42 * UPLIFT_2223_TO_2324 + 0.5 * 20          # half GP (PSSRU £42), half other staff (~£20, assumption)
    ae = 0.7 * 282 * UPLIFT_2223_TO_2324 + 0.3 * 150         # 70% type 1 (NCC £282), 30% other types (~£150, assumption)
    bed = 313 * UPLIFT_1617_TO_2324                          # excess bed day 2016/17
    elec = (0.2 * 3684 + 0.8 * 738) * UPLIFT_1617_TO_2324    # 20% ordinary elective / 80% day case (assumption)
    opd = 120 * UPLIFT_1617_TO_2324
    chome = (135 * 916 + 139 * 1026) / 274                   # residential / nursing mix of 65+ residents
    rows = [
        ("gp_appointments", "General practice appointments (all staff)", "primary_care", "appointment", gp),
        ("other_primary_care", "Community pharmacy and dental and optometry contacts", "primary_care", "contact", 40),
        ("community_nursing", "Community nursing and therapy contacts", "community", "contact", 65),
        ("community_mental_health", "Community mental health contacts", "mental_health", "contact", 175),
        ("ae_attendances", "A&E attendances (all types)", "acute", "attendance", ae),
        ("emergency_admissions", "Emergency admissions (fixed cost excluding bed days)", "acute", "admission", 1200),
        ("emergency_bed_days", "Emergency bed days", "acute", "bed day", bed),
        ("elective_admissions", "Elective admissions (inpatient and day case)", "acute", "admission", elec),
        ("outpatient_attendances", "Outpatient attendances", "acute", "attendance", opd),
        ("home_care_hours", "Home care hours", "social_care", "hour", 28),
        ("care_home_weeks", "Care home resident weeks", "social_care", "resident week", chome),
    ]
    return [(s, l, sec, u, int(round(c)), "2023/24") for s, l, sec, u, c in rows]


SETTINGS_ROWS = build_settings()

# ---------------------------------------------------------------------------
# 10. Parameters
# ---------------------------------------------------------------------------
LOS_SHAPE = 0.45


def build_parameters():
    p0 = (LOS_SHAPE / (LOS_SHAPE + EMERG_LOS_MEAN)) ** LOS_SHAPE
    return [
        ("cost_inflation", "0", "per year", "real prices: costs held at the 2023/24 price year (HM Treasury Green Book 2022 appraises in real terms); set e.g. 0.025 for cash prices (assumption: long-run NHS pay and prices growth)"),
        ("emergency_los_shape", fmt(LOS_SHAPE), "negative binomial shape per admission",
         f"assumption: gives P(zero-day stay) = {p0:.2f} matching 'about a third are zero-day stays' (Health Foundation 2018 [P])"),
        ("risk_shape", "0.15", "gamma shape (mean 1)",
         "calibrated: gives top 1% = 30.7% of simulated hospital spend vs 32% in Kelly et al. IFS W15/21 2015 [P] (tests/it/statistics.rs)"),
        ("male_birth_share", fmt(MALE_BIRTH_SHARE), "share of live births",
         "assumption: sex ratio at birth of about 105 boys per 100 girls (long-run ONS births pattern)"),
        ("england_systems", "42", "count", "Health and Care Act 2022: 42 integrated care systems [P]"),
        ("england_neighbourhoods", "1250", "count", "NHS England PCN guidance 2025: about 1250 primary care networks [P]"),
        ("england_places_per_system", "5", "count", "assumption: typical ICS has 3-8 places (usually local authorities)"),
        ("neighbourhood_size_mean", str(int(round(POP_TOTAL / 1250))), "people",
         "derived: ONS mid-2023 England population 57690300 / 1250 neighbourhoods"),
        ("neighbourhood_size_sd", "11000", "people",
         "assumption: normal sd giving about 7% below 30k and 36% above 50k (BJGP 2020;70(701):e899 [P]: 7% and 35%)"),
        ("neighbourhood_size_min", "20000", "people", "assumption: clamp for the smallest rural networks"),
        ("neighbourhood_size_max", "90000", "people", "assumption: clamp for the largest super-networks"),
        ("variation_hospital_shared_sd", "0.065", "log-scale sd (lognormal mean 1)",
         "calibrated with assumptions: PCN-level hospital cost residual sd about 7% derived from Dixon et al. BMJ 2011;343:d6608 [S] (a third of practices 10%+ from PBRA prediction); see README"),
        ("variation_hospital_setting_sd", "0.04", "log-scale sd (lognormal mean 1)",
         "assumption: part of each hospital setting's own; with the shared part gives hospital cost sd about 7% (README)"),
        ("variation_other_sd", "0.08", "log-scale sd (lognormal mean 1)",
         "assumption: primary community mental health and social care supply and style vary at least as much as hospital use but independently"),
        ("variation_yearly_sd", "0.01", "log-scale sd (lognormal mean 1)",
         "assumption: small year-to-year wobble of a PCN's rates beyond Poisson chance (staffing gaps; winters); the simulated chance already gives about the PCN-level chance implied by Dixon et al. 2011 (README)"),
        ('condition_recording_sensitivity', '0.8', 'share of people with a condition whose GP record shows it',
         'assumption: recorded prevalence falls short of estimated prevalence, by about 10% for diabetes and 40% for hypertension (PHE prevalence estimates vs QOF registers); 0.8 across segments'),
        ('ward_beds', '28', 'beds in a ward',
         'assumption: a typical adult general and acute ward has 24 to 30 beds; fixed ward costs are released only when a whole ward closes'),
        ('bed_occupancy', '0.9', 'share of beds occupied',
         'assumption: general and acute bed occupancy in England has run at about 90-95% (NHS England, Bed availability and occupancy KH03, 2023/24)'),
        ('envelope_real_growth', '0.01', 'per year, real terms',
         'ICB core allocations grow 2.72% in 2026/27 and 2.92% in 2027/28 on average (NHS England, ICB allocations 2026/27 to 2028/29, Nov 2025, as stated in Parliament, written answer HL14384, Feb 2026), read as cash, less a GDP deflator of about 2% (assumption): about 1% real. Range 0.5% to 3%: NHS England day-to-day spending grows 3.0% a year real to 2028/29 (HM Treasury Spending Review 2025, as summarised by the King\'s Fund 2025); ICBs above their fair share grow more slowly as allocations converge'),
    ]


# ---------------------------------------------------------------------------
# 11. Archetypes
# ---------------------------------------------------------------------------
ARCH = [  # id, label, england_share, imd (urban_mixed row solved so England is 20% each)
    ("urban_young_deprived", "Urban young and deprived", 0.17, [0.50, 0.28, 0.13, 0.06, 0.03]),
    ("urban_mixed", "Urban mixed", 0.22, None),
    ("affluent_suburban", "Affluent suburban", 0.18, [0.01, 0.04, 0.15, 0.30, 0.50]),
    ("older_coastal", "Older coastal and seaside", 0.10, [0.22, 0.24, 0.22, 0.18, 0.14]),
    ("rural", "Rural and market towns", 0.15, [0.02, 0.10, 0.28, 0.32, 0.28]),
    ("post_industrial_town", "Post-industrial town", 0.18, [0.38, 0.28, 0.18, 0.10, 0.06]),
]
ARCH_AGE = {  # prior tilt vs England by band (assumption), adjusted by raking below
    "urban_young_deprived": [1.2, 1.1, 1.1, 1.05, 1.35, 1.5, 1.4, 1.2, 1.05, .95, .85, .75, .7, .65, .6, .55, .55, .55, .55],
    "urban_mixed": [1.05, 1.0, 1.0, 1.05, 1.2, 1.2, 1.15, 1.05, 1.0, 1.0, .95, .92, .9, .88, .85, .85, .85, .85, .85],
    "affluent_suburban": [.95, 1.1, 1.1, 1.05, .75, .75, .9, 1.05, 1.1, 1.1, 1.08, 1.05, 1.0, 1.0, 1.05, 1.1, 1.1, 1.15, 1.2],
    "older_coastal": [.8, .85, .9, .9, .8, .75, .75, .8, .85, .95, 1.05, 1.15, 1.3, 1.45, 1.55, 1.6, 1.6, 1.6, 1.6],
    "rural": [.85, .95, 1.0, .95, .7, .7, .75, .85, .95, 1.05, 1.15, 1.2, 1.25, 1.3, 1.3, 1.25, 1.2, 1.15, 1.1],
    "post_industrial_town": [1.0, 1.0, 1.0, 1.0, .95, 1.0, 1.0, .97, .97, 1.0, 1.02, 1.05, 1.05, 1.05, 1.05, 1.0, .98, .95, .9],
}


def build_archetypes():
    shares, _ = round_to_sum([a[2] for a in ARCH], 6)
    known = [a for a in ARCH if a[3] is not None]
    mixed_share = [a[2] for a in ARCH if a[3] is None][0]
    mixed = [(0.2 - sum(a[2] * a[3][k] for a in known)) / mixed_share for k in range(5)]
    rows = []
    for (aid, label, _, imd), sh in zip(ARCH, shares):
        imd = imd if imd is not None else mixed
        r, _ = round_to_sum(imd, 6)
        rows.append((aid, label, sh, r))
    return rows


def england_band_shares():
    tot = sum(POP[b][0] + POP[b][1] for b in BANDS)
    return [(POP[b][0] + POP[b][1]) / tot for b in BANDS]


def arch_mix(weights, shares):
    e = england_band_shares()
    mix = [0.0] * 19
    for (aid, _, sh, _) in shares:
        w = weights[aid]
        n = sum(e[i] * w[i] for i in range(19))
        for i in range(19):
            mix[i] += sh * e[i] * w[i] / n
    return mix


def build_arch_age(arch_rows):
    w = {k: list(v) for k, v in ARCH_AGE.items()}
    e = england_band_shares()
    for _ in range(200):
        mix = arch_mix(w, arch_rows)
        for aid in w:
            w[aid] = [w[aid][i] * e[i] / mix[i] for i in range(19)]
    # rescale each archetype so its weights average 1 over England's structure, round
    out = {}
    for aid in w:
        n = sum(e[i] * w[aid][i] for i in range(19))
        out[aid] = [round(v / n, 4) for v in w[aid]]
    return out


# ---------------------------------------------------------------------------
# 12. Default system (fictional)
# ---------------------------------------------------------------------------
SYSTEM = "Northvale and Eastmoor ICS"
DEFAULT_SCALE = 1.04  # sizes below are scaled by this and rounded to 10
DEFAULT_SYSTEM = [
    ("Northvale City", [
        ("Harbourside PCN", "urban_young_deprived", 47210), ("Castlegate PCN", "urban_young_deprived", 52340),
        ("Millbrook PCN", "urban_young_deprived", 41780), ("Riverside North PCN", "urban_young_deprived", 38920),
        ("Foundry Lane PCN", "urban_young_deprived", 44150), ("Canal Quarter PCN", "urban_young_deprived", 35260),
        ("Docklands PCN", "urban_young_deprived", 49870), ("University Quarter PCN", "urban_young_deprived", 54020), ("St Marks PCN", "urban_mixed", 36540),
        ("Queens Park PCN", "urban_mixed", 43710), ("Westgate PCN", "urban_mixed", 39630),
        ("Cathedral PCN", "urban_mixed", 45320)]),
    ("Ashdown Borough", [
        ("Ashdown Green PCN", "affluent_suburban", 45630), ("Beechwood PCN", "affluent_suburban", 41240),
        ("Oakley Vale PCN", "affluent_suburban", 38470), ("Kingsmead PCN", "affluent_suburban", 49520),
        ("Hollins Park PCN", "affluent_suburban", 42310), ("Larkhill PCN", "affluent_suburban", 33890),
        ("Fairfield PCN", "urban_mixed", 36820)]),
    ("Saltmouth", [
        ("Saltmouth Bay PCN", "older_coastal", 39810), ("Cliffside PCN", "older_coastal", 34620),
        ("Promenade PCN", "older_coastal", 31250), ("Northcliff PCN", "older_coastal", 37940),
        ("Seaview PCN", "older_coastal", 28730)]),
    ("Eastmoor Dales", [
        ("Upper Dale PCN", "rural", 26410), ("Moorside PCN", "rural", 31820),
        ("Three Rivers PCN", "rural", 35690), ("Market Hewby PCN", "rural", 33150),
        ("Fellbeck PCN", "rural", 29340), ("Greystone PCN", "rural", 38260)]),
    ("Kelbridge", [
        ("Kelbridge Central PCN", "post_industrial_town", 46930), ("Pitside PCN", "post_industrial_town", 41350),
        ("Forge Road PCN", "post_industrial_town", 39180), ("Colliery Vale PCN", "post_industrial_town", 37620),
        ("Mill Lane PCN", "post_industrial_town", 43440), ("Brackenhurst PCN", "urban_mixed", 35810),
        ("Brickfield PCN", "post_industrial_town", 40560)]),
]

# ---------------------------------------------------------------------------
# 13. Benchmarks
# ---------------------------------------------------------------------------
BENCHMARKS = [
    ("deaths", 544054, "2023", "ONS Death registration summary statistics England 2023 [P]"),
    ("births", ENGLAND_BIRTHS, "2023",
     "derived: ONS Births in England and Wales 2023 591072 [P] x 0.953 England share (assumption)"),
    ("emergency_admissions", EMERG_ADM, "2023/24",
     "assumption: Health Foundation 2018 6.02M in 2017/18 [P] rolled forward to about 6.3M (not verified)"),
    ("ae_attendances", 25300000, "2022/23", "NHS Digital Hospital A&E Activity 2022-23 all types [S]"),
    ("gp_appointments", 353000000, "2023/24",
     "NHS Digital Appointments in General Practice booked excl. COVID vaccinations [S]"),
    ("outpatient_attendances", 95900000, "2022/23", "HES attended outpatient appointments via PQ 200113 [P]"),
    ('life_expectancy_male', 79.1, '2021-2023',
     'ONS National life tables England 2021 to 2023 via Centre for Ageing Better 2024 [S]'),
    ('life_expectancy_female', 83.0, '2021-2023',
     'ONS National life tables England 2021 to 2023 via Centre for Ageing Better 2024 [S]'),
    ('life_expectancy_gap_male', 7.8, '2018-2020',
     'derived: ONS Health state life expectancies by IMD England 2018 to 2020 slope index of inequality 9.7 years [P] x 0.8 (quintile means under a linear gradient)'),
    ('life_expectancy_gap_female', 6.3, '2018-2020',
     'derived: ONS Health state life expectancies by IMD England 2018 to 2020 slope index of inequality 7.9 years [P] x 0.8 (quintile means under a linear gradient)'),
    ('care_home_residents', 299000, '2019',
     'Health Foundation IAU 2019 274000 residents aged 65+ [P] plus 25000 under 65 (assumption)'),
    ('top1_hospital_spend_share', 0.32, '2015',
     'Kelly Stoye and Vera-Hernandez IFS WP W15/21 2015: costliest 1% of the population 32% of hospital spending [P]'),
    ('top5_hospital_spend_share', 0.5, '2014/15',
     'Dreyer et al. Health Foundation Working Paper 7 2019: costliest 5% about 50% of primary care hospital and prescribing costs [P] (simulated: hospital only)'),
]


# ---------------------------------------------------------------------------
# 14. Main: fit, write, check
# ---------------------------------------------------------------------------
def rounded_prevalence(bandprev):
    out = {}
    for b in BANDS:
        r, _ = round_to_sum(bandprev[b], 6)
        out[b] = r
    return out


def rounded_transitions(Ts):
    out = []
    for T in Ts:
        R = []
        for r in range(7):
            row, _ = round_to_sum(T[r], 6)
            R.append(row)
        out.append(R)
    return out


def pct(a, b):
    return 100.0 * (a / b - 1.0)


def main():
    # --- demography checks
    e0m, e0f = life_expectancy(QX[0]), life_expectancy(QX[1])
    deaths_lt = sum(POP1[s][a] * QX[s][a] for s in range(2) for a in range(101))
    births = sum(POP[b][1] * f for b, f in ASFR.items())
    tfr = 5 * sum(ASFR.values())
    mean_age = sum((int(b.split("-")[0]) + 2.5) * f for b, f in ASFR.items()) / sum(ASFR.values())
    popsum = sum(POP[b][0] + POP[b][1] for b in BANDS)
    net_mig = sum((i - o) * POP[b][SEXES.index(sx)] for b, sx, i, o in MIGRATION)
    gross_in = sum(i * POP[b][SEXES.index(sx)] for b, sx, i, o in MIGRATION)
    log("== Demography")
    log(f"population total {popsum:,} (ONS mid-2023 57,690,300); male {sum(POP[b][0] for b in BANDS):,} female {sum(POP[b][1] for b in BANDS):,}")
    log(f"share 65+ {sum(POP[b][0] + POP[b][1] for b in OLD_BANDS) / popsum:.3f}; 90+ {sum(POP['90+']):,}")
    log(f"life table e0 male {e0m:.2f} female {e0f:.2f} (ONS E&W 2021-23: 79.0 / 83.0); e65 male {life_expectancy(QX[0], 65):.2f} female {life_expectancy(QX[1], 65):.2f}")
    log(f"deaths = sum pop x qx (life-table age shape within bands) {deaths_lt:,.0f} (ONS 2023 registrations 544,054: {pct(deaths_lt, 544054):+.1f}%)")
    log(f"fertility TFR {tfr:.3f} (ONS 1.44), mean age (band midpoints) {mean_age:.1f} (ONS 30.9)")
    log(f"births = female pop x ASFR {births:,.0f} (England benchmark {ENGLAND_BIRTHS:,}: {pct(births, ENGLAND_BIRTHS):+.1f}%)")
    log(f"migration: gross in {gross_in / popsum:.3%} a year, net {net_mig:,.0f} = {net_mig / popsum:+.3%} of population")

    # --- segments
    params, Ts_fit, x, bandprev_fit = fit_segments()
    prev = rounded_prevalence(bandprev_fit)
    Ts = rounded_transitions(Ts_fit)
    log("")
    log("== Segment model (fitted transition rates per age group)")
    for g, p in enumerate(params):
        log(f"group {GROUPS[g][0]}-{GROUPS[g][1]}: " + ", ".join(f"{k}={v:.5f}" for k, v in sorted(p.items())))
    log("band: prevalence written (target in brackets; healthy is the remainder)")
    for b in BANDS:
        cells = []
        for s in range(7):
            t = TARGET[b][s]
            cells.append(f"{prev[b][s]:.4f}" + (f"({t:.4f})" if t is not None else ""))
        log(f"  {b:>5} " + " ".join(cells))
    tot = sum(PALL)
    overall = [sum(prev[b][s] * sum(PALL[a] for a in band_ages(b)) for b in BANDS) / tot for s in range(7)]
    log("overall England prevalence: " + ", ".join(f"{SEGMENTS[s]} {overall[s]:.4f}" for s in range(7)))
    min_diag = min(Ts[g][r][r] for g in range(5) for r in range(7))
    log(f"minimum diagonal {min_diag:.4f}")
    # implied death probabilities by segment (average quintile) at band mid-ages
    log("implied annual death probability by segment (persons, model normalisation, mid-age of band):")
    for b in BANDS:
        a = band_ages(b)[2]
        d = [min(1.0, QALL[a] * SEG_MORT[SEGMENTS[s]] / seg_mean_mult(prev[b])) for s in range(7)]
        log(f"  {b:>5} age {a:>3}: " + " ".join(f"{v:.4f}" for v in d))

    num = den = 0.0
    for a in range(101):
        b = band_of_age(a)
        d = [min(1.0, QALL[a] * SEG_MORT[SEGMENTS[s]] / seg_mean_mult(prev[b])) for s in range(7)]
        num += PALL[a] * prev[b][E] * d[E]
        den += PALL[a] * sum(prev[b][s] * d[s] for s in range(7))
    log(f"share of deaths that occur in the end_of_life segment (England population): {num / den:.3f}")

    # --- deprivation
    alpha, dep_mort = fit_dep_mort(Ts, prev)
    le_m = quintile_le(Ts, prev, dep_mort, 0)
    le_f = quintile_le(Ts, prev, dep_mort, 1)
    log("")
    log("== Deprivation")
    log(f"residual mortality multipliers {dep_mort} (shape^{alpha:.3f}); morbidity {DEP_MORB}")
    log("model life expectancy at birth by IMD quintile 1..5: male " + " ".join(f"{v:.1f}" for v in le_m)
        + f" (gap {le_m[4] - le_m[0]:.1f}); female " + " ".join(f"{v:.1f}" for v in le_f) + f" (gap {le_f[4] - le_f[0]:.1f})")
    log(f"quintile-average e0 male {sum(le_m) / 5:.2f} female {sum(le_f) / 5:.2f}")

    # --- activity rates
    rates_pop = calibrate_rates()
    rates = calibrate_to_simulator(rates_pop, prev, Ts, dep_mort) if CALIBRATE_TO_SIMULATOR else rates_pop
    log("")
    log("== Activity calibration: sum(rate x England population) vs published/assumed national total")
    for st in RATE_SETTINGS:
        total = sum(rates[st][b][s] * POP[b][s] for b in BANDS for s in range(2))
        tgt = setting_total_target(st)
        log(f"  {st:<24} target {tgt:>13,} | sum(rate x population) {total:>13,.0f} ({pct(total, tgt):+.3f}%)")
    cn65 = sum(rates_pop["community_nursing"][b][s] * POP[b][s] for b in OLD_BANDS for s in range(2)) / ACT_TOTALS["community_nursing"]
    log(f"  community_nursing share of contacts aged 65+: {cn65:.2f} (CSDS all community contacts: 0.59)")
    ch = rates_pop["care_home_weeks"]
    for b in ("85-89", "90+"):
        log(f"  care home residency implied {b}: male {ch[b][0] / 52:.3f} female {ch[b][1] / 52:.3f} of population")

    cost = {r[0]: r[4] for r in SETTINGS_ROWS}
    log("")
    log("== Indicative national spend at 2023/24 unit costs (national totals x unit cost)")
    spend = {st: setting_total_target(st) * cost[st] for st in RATE_SETTINGS}
    spend["emergency_bed_days"] = EMERG_ADM * EMERG_LOS_MEAN * cost["emergency_bed_days"]
    for st in SETTINGS:
        log(f"  {st:<24} GBP {spend[st] / 1e9:6.2f}bn")
    nhs = sum(v for k, v in spend.items() if k not in ("home_care_hours", "care_home_weeks"))
    asc = spend["home_care_hours"] + spend["care_home_weeks"]
    log(f"  NHS settings GBP {nhs / 1e9:.1f}bn (GBP {nhs / POP_TOTAL:,.0f} per head); social care GBP {asc / 1e9:.1f}bn")
    log(f"  emergency cost per admission incl. bed days GBP {cost['emergency_admissions'] + EMERG_LOS_MEAN * cost['emergency_bed_days']:,.0f}")

    # --- model replica projection
    recs = project(prev, Ts, dep_mort, rates, years=11)
    r1 = recs[0]
    log("")
    log("== Year-one expected totals under the simulator's rules (uniform ages in bands, 90+ geometric 0.78,")
    log("   equal IMD quintiles, segment and deprivation multipliers, half-year exposure for exits/entrants)")
    log(f"  deaths {r1['deaths']:,.0f} (uncapped {r1['deaths_uncapped']:,.0f}; benchmark 544,054: {pct(r1['deaths'], 544054):+.1f}%)")
    log(f"  births {r1['births']:,.0f} (benchmark {ENGLAND_BIRTHS:,}: {pct(r1['births'], ENGLAND_BIRTHS):+.1f}%)")
    log(f"  in-migrants {r1['in']:,.0f} out-migrants {r1['out']:,.0f} net {r1['in'] - r1['out']:+,.0f}")
    bench = {m: v for m, v, _, _ in BENCHMARKS}
    for st in RATE_SETTINGS + ["emergency_bed_days"]:
        v = sum(r1["activity"][st])
        ref = bench.get(st, setting_total_target(st) if st != "emergency_bed_days" else None)
        extra = f" vs {ref:,} ({pct(v, ref):+.1f}%)" if ref else ""
        g15 = r1["activity"][st][0] / r1["activity"][st][4]
        log(f"  {st:<24} {v:>15,.0f}{extra}; quintile 1 / quintile 5 = {g15:.2f}")
        if st in RATE_SETTINGS:
            YEAR1[st] = v
    log("")
    log("== Prevalence drift over 10 simulated years (England, deterministic replica)")
    e = england_band_shares()
    p0, p10 = recs[0]["prev"], recs[10]["prev"]
    std0 = [sum(e[i] * recs[0]["band_prev"][b][s] for i, b in enumerate(BANDS)) for s in range(7)]
    std10 = [sum(e[i] * recs[10]["band_prev"][b][s] for i, b in enumerate(BANDS)) for s in range(7)]
    log(f"  population {recs[0]['pop']:,.0f} -> {recs[10]['pop']:,.0f} ({pct(recs[10]['pop'], recs[0]['pop']):+.1f}%)")
    log(f"  {'segment':<24} {'year 0':>8} {'year 10':>8} {'change':>8} | age-standardised change")
    for s in range(7):
        log(f"  {SEGMENTS[s]:<24} {p0[s]:8.4f} {p10[s]:8.4f} {pct(p10[s], p0[s]):+7.1f}% | {pct(std10[s], std0[s]):+7.1f}%")

    # --- write files
    write_all(prev, Ts, dep_mort, rates)
    validate()
    with open(os.path.join(HERE, "checks.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(CHECKS) + "\n")


def write_all(prev, Ts, dep_mort, rates):
    write_csv("life_table.csv", ["age", "qx_male", "qx_female"],
              [(a, fmt(QX[0][a]), fmt(QX[1][a])) for a in range(101)])
    write_csv("population_age_sex.csv", ["age_band", "male", "female"],
              [(b, POP[b][0], POP[b][1]) for b in BANDS])
    write_csv("segments.csv", ["segment", "label", "severity", "mortality_multiplier", "newborn", "utility"],
              [(s, SEG_LABEL[s], i, fmt(SEG_MORT[s]), "true" if s == "maternity_infancy" else "false",
                fmt(SEG_UTILITY[s]))
               for i, s in enumerate(SEGMENTS)])
    write_csv("segment_prevalence.csv", ["age_band", "segment", "share"],
              [(b, SEGMENTS[s], fmt(prev[b][s])) for b in BANDS for s in range(7)])
    write_csv("segment_transitions.csv", ["age_from", "age_to", "from", "to", "probability"],
              [(lo, hi, SEGMENTS[r], SEGMENTS[c], fmt(Ts[g][r][c]))
               for g, (lo, hi) in enumerate(GROUPS) for r in range(7) for c in range(7)])
    write_csv("deprivation.csv", ["imd_quintile", "mortality_multiplier", "morbidity_multiplier"],
              [(q + 1, fmt(dep_mort[q], 3), fmt(DEP_MORB[q], 3)) for q in range(5)])
    write_csv("fertility.csv", ["age_band", "rate"], [(b, fmt(f, 5)) for b, f in ASFR.items()])
    write_csv("migration.csv", ["age_band", "sex", "in_rate", "out_rate"],
              [(b, sx, fmt(i, 5), fmt(o, 5)) for b, sx, i, o in MIGRATION])
    write_csv("settings.csv", ["setting", "label", "sector", "unit", "unit_cost", "price_year", "real_price_growth"], [list(r) + [0] for r in SETTINGS_ROWS])
    write_csv("parameters.csv", ["name", "value", "unit", "source"], build_parameters())
    write_csv("activity_rates.csv", ["setting", "age_band", "sex", "rate"],
              [(st, b, SEXES[s], fmt(rates[st][b][s], 8)) for st in RATE_SETTINGS for b in BANDS for s in range(2)])
    write_csv("activity_segment_multipliers.csv", ["setting", "segment", "multiplier"],
              [(st, SEGMENTS[g], fmt(SEG_ACT[st][g])) for st in RATE_SETTINGS for g in range(7)])
    write_csv("activity_deprivation_multipliers.csv", ["setting", "imd_quintile", "multiplier"],
              [(st, q + 1, fmt(DEP_ACT[st][q])) for st in RATE_SETTINGS for q in range(5)])
    arch = build_archetypes()
    write_csv("archetypes.csv", ["archetype", "label", "england_share", "imd_1", "imd_2", "imd_3", "imd_4", "imd_5"],
              [(a, l, fmt(sh), *[fmt(v) for v in imd]) for a, l, sh, imd in arch])
    ages = build_arch_age(arch)
    write_csv("archetype_age_profile.csv", ["archetype", "age_band", "weight"],
              [(a[0], b, fmt(ages[a[0]][i], 4)) for a in arch for i, b in enumerate(BANDS)])
    rows = []
    for place, nbs in DEFAULT_SYSTEM:
        for name, at, n in nbs:
            rows.append((SYSTEM, place, name, at, int(round(n * DEFAULT_SCALE, -1))))
    write_csv("default_system.csv", ["system", "place", "neighbourhood", "archetype", "registered_population"], rows)
    write_csv("england_benchmarks.csv", ["measure", "value", "year", "source"], BENCHMARKS)

    # archetype checks
    log("")
    log("== Archetypes")
    imd_mix = [sum(sh * imd[k] for _, _, sh, imd in arch) for k in range(5)]
    log("England IMD mix implied by archetype shares: " + " ".join(f"{v:.4f}" for v in imd_mix))
    e = england_band_shares()
    mix = arch_mix(ages, arch)
    dev = max(abs(mix[i] / e[i] - 1) for i in range(19))
    log(f"age structure: max relative deviation of the share-weighted mix from England {dev:.4%}")
    for a in arch:
        w = ages[a[0]]
        n = sum(e[i] * w[i] for i in range(19))
        s65 = sum(e[i] * w[i] for i in range(13, 19)) / n
        s2039 = sum(e[i] * w[i] for i in range(4, 8)) / n
        log(f"  {a[0]:<22} share {a[2]:.2f} IMD {' '.join(f'{v:.3f}' for v in a[3])} | 20-39 {s2039:.3f} 65+ {s65:.3f}")
    log(f"  England                                                  | 20-39 {sum(e[4:8]):.3f} 65+ {sum(e[13:]):.3f}")
    log("")
    log("== Default system (fictional)")
    tot = sum(r[4] for r in rows)
    log(f"{SYSTEM}: {len(rows)} neighbourhoods, registered population {tot:,}")
    for place, nbs in DEFAULT_SYSTEM:
        sizes = [r[4] for r in rows if r[1] == place]
        log(f"  {place:<16} {len(nbs):>2} PCNs {sum(sizes):>9,} (range {min(sizes):,}-{max(sizes):,})")
    out30 = sum(1 for r in rows if r[4] < 30000)
    out50 = sum(1 for r in rows if r[4] > 50000)
    log(f"  below 30,000: {out30}; above 50,000: {out50}")


def read_csv(name):
    path = os.path.join(OUT, name)
    raw = open(path, "rb").read()
    assert b"\r" not in raw, name
    text = raw.decode("utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n"), name
    lines = text[:-1].split("\n")
    header = lines[0].split(",")
    rows = list(csv.reader(lines[1:]))
    for r in rows:
        assert len(r) == len(header) and all(c.strip() != "" for c in r), (name, r)
    return header, rows


def validate():
    u = 10 ** 6

    def micro(s):
        v = float(s)
        m = round(v * u)
        assert abs(v * u - m) < 1e-6, s
        return m

    h, r = read_csv("life_table.csv")
    assert h == ["age", "qx_male", "qx_female"] and [int(x[0]) for x in r] == list(range(101))
    assert all(0 < float(x[1]) <= 1 and 0 < float(x[2]) <= 1 for x in r)
    h, r = read_csv("population_age_sex.csv")
    assert [x[0] for x in r] == BANDS and sum(int(x[1]) + int(x[2]) for x in r) == POP_TOTAL
    h, r = read_csv("segments.csv")
    assert [x[0] for x in r] == SEGMENTS and [x[4] for x in r].count("true") == 1
    assert len({x[2] for x in r}) == 7
    h, r = read_csv("segment_prevalence.csv")
    assert len(r) == 133
    for b in BANDS:
        assert sum(micro(x[2]) for x in r if x[0] == b) == u, b
    assert all(0 <= float(x[2]) <= 1 for x in r) and {x[1] for x in r} == set(SEGMENTS)
    h, r = read_csv("segment_transitions.csv")
    assert len(r) == 245
    morb_max = max(norm_mean(DEP_MORB))
    for lo, hi in GROUPS:
        for f in SEGMENTS:
            rr = [x for x in r if int(x[0]) == lo and int(x[1]) == hi and x[2] == f]
            assert [x[3] for x in rr] == SEGMENTS
            assert sum(micro(x[4]) for x in rr) == u, (lo, f)
            fi = SEGMENTS.index(f)
            diag = float(rr[fi][4])
            assert diag >= 0.3, (lo, f, diag)
            worse = sum(float(rr[c][4]) for c in range(fi + 1, 7))
            better = sum(float(rr[c][4]) for c in range(fi))
            assert 1 - better - worse * morb_max >= 0.1, (lo, f)
    h, r = read_csv("deprivation.csv")
    assert [int(x[0]) for x in r] == [1, 2, 3, 4, 5]
    h, r = read_csv("fertility.csv")
    assert [x[0] for x in r] == BANDS[3:10]
    h, r = read_csv("migration.csv")
    assert len(r) == 38 and all(0 <= float(x[2]) <= 1 and 0 <= float(x[3]) <= 1 for x in r)
    h, r = read_csv("settings.csv")
    assert [x[0] for x in r] == SETTINGS and all(x[2] in ("acute", "community", "primary_care", "mental_health", "social_care") for x in r)
    h, r = read_csv("parameters.csv")
    assert all(x[3] for x in r) and len({x[0] for x in r}) == len(r)
    h, r = read_csv("activity_rates.csv")
    assert len(r) == 380 and all(float(x[3]) >= 0 for x in r) and {x[0] for x in r} == set(RATE_SETTINGS)
    h, r = read_csv("activity_segment_multipliers.csv")
    assert len(r) == 70 and all(float(x[2]) > 0 for x in r)
    h, r = read_csv("activity_deprivation_multipliers.csv")
    assert len(r) == 50 and all(float(x[2]) > 0 for x in r)
    h, r = read_csv("archetypes.csv")
    assert sum(micro(x[2]) for x in r) == u
    for x in r:
        assert sum(micro(v) for v in x[3:8]) == u, x[0]
    ids = {x[0] for x in r}
    h, r = read_csv("archetype_age_profile.csv")
    assert len(r) == 19 * len(ids) and all(float(x[2]) > 0 for x in r)
    h, r = read_csv("default_system.csv")
    assert len({x[2] for x in r}) == len(r) and all(x[3] in ids for x in r)
    h, r = read_csv("england_benchmarks.csv")
    assert {x[0] for x in r} == {b[0] for b in BENCHMARKS}
    log("")
    log("== Validation: all files present, row counts, exact sums (integer micro-units), ranges, ids: OK")


if __name__ == "__main__":
    main()
