//! The metrics capsim reports, defined once. Each is a typed key with its unit; its name in
//! tables (`count.emergency_admissions`, `budget:need`) is derived here and parsed back
//! here, so summaries, charts and the report select series by type, and a renamed metric
//! cannot silently drop out of a chart.

use std::fmt;

use crate::core::care::{Sector, Setting};

/// What a metric's value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    People,
    /// Events or units of care (admissions, bed days, hours...).
    Count,
    Pounds,
    PoundsPerHead,
    /// Person-years enrolled, or people weighted by a formula.
    PersonYears,
    /// A ratio (return on investment).
    Ratio,
    /// Quality-adjusted life years.
    Qalys,
    PoundsPerQaly,
    /// 0 or 1 in a run, so its mean over runs is a probability.
    Indicator,
    Year,
    /// Years of life (life expectancy).
    Years,
    /// Hospital beds or virtual-ward places.
    Beds,
    /// Days in a year.
    Days,
    /// Whole-time equivalent staff.
    Wte,
    /// A share from 0 to 1.
    Share,
}

crate::labelled_enum! {
    /// Capitation quantities, reported once per formula.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum FormulaMetric {
        WeightedPopulation => "weighted_population",
        Budget => "budget",
        BudgetPerHead => "budget_per_head",
        Position => "position",
        /// Position minus budget x the system's position / budget: what the formula gets
        /// wrong about the area rather than an overspend the whole system shares.
        RelativePosition => "relative_position",
        PositionAfterRiskShare => "position_after_risk_share",
        /// Deficits the risk pool covered, at the pool's level.
        PooledDeficit => "pooled_deficit",
        /// The risk pool's balance: surpluses paid in less deficits covered.
        PoolBalance => "pool_balance",
    }
}

crate::labelled_enum! {
    /// Measures whose gap between the most and least deprived quintiles is reported.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Gap {
        SpendPerHead => "care_spend_per_head",
        AdmissionsPer1000 => "admissions_per_1000",
        DeathsPer1000 => "deaths_per_1000",
        /// QALYs lived in the year per resident at its start.
        QalysPerHead => "qalys_per_head",
    }
}

/// One reported metric. Money is in pounds at the price year. Where a figure could be
/// misread its name says which it is: `cumulative_` and `discounted_cumulative_` sum
/// years 1 to the row's year (discounted to year 1), anything else is the row's year
/// alone; `total_cost` is the economic cost (full average unit costs) and `cash_cost`
/// what budgets pay (`accounts::costs`); savings are gross (avoided activity), net (less
/// added activity) or cashable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Residents at the start of the year.
    Population,
    Births,
    Deaths,
    /// Care used in a setting.
    Count(Setting),
    /// Care used, at full average unit costs.
    CareSpend,
    /// Care used in a sector.
    SectorSpend(Sector),
    /// Care spend per resident.
    CareSpendPerHead,
    /// A capitation quantity under the named formula.
    Formula(FormulaMetric, String),
    /// The interventions' running and set-up costs.
    ProgrammeCost,
    /// The set-up part of the programme cost (year 1).
    SetupCost,
    /// Care spend plus programme cost: the economic cost.
    TotalCost,
    TotalCostPerHead,
    /// Total cost plus the fixed costs of avoided activity that providers still pay: what
    /// budget lines pay.
    CashCost,
    /// Cash cost per resident: what budgets per head are set against.
    CashCostPerHead,
    /// Enrolled person-years.
    Enrolled,
    FundingShift,
    /// The counterfactual's cost of the activity the scenario avoided, setting by
    /// setting, before any added activity.
    GrossSavings,
    /// The cost of activity the scenario added (substitution), setting by setting.
    AddedActivityCost,
    /// Gross savings minus added activity: counterfactual care spend minus care spend.
    NetSavings,
    /// The part of net savings released in cash: variable costs, and fixed bed-day costs
    /// in whole wards.
    CashableSavings,
    /// Net savings not released in cash (cash cost minus total cost): capacity released
    /// that providers still pay for.
    RetainedFixedCost,
    /// Total cost minus the counterfactual's (in-year, economic).
    NetCost,
    CumulativeNetCost,
    /// Cumulative net cost with each year's flow discounted to year 1 (`[evaluation]
    /// discount_rate`).
    DiscountedCumulativeNetCost,
    /// Cash cost minus the counterfactual's (in-year): what the system's budgets bear.
    NetCashCost,
    AvoidedAdmissions,
    AvoidedBedDays,
    /// Cumulative (net savings - programme cost) / programme cost.
    Roi,
    /// Cumulative net savings / programme cost.
    BenefitCostRatio,
    /// The return on investment on discounted flows.
    DiscountedRoi,
    /// Period life expectancy at birth of males, from the year's simulated deaths and
    /// person-years by age band (`accounts::life`).
    LifeExpectancyMale,
    /// The same for females.
    LifeExpectancyFemale,
    /// Counterfactual deaths minus deaths.
    DeathsAverted,
    /// Person-years lived minus the counterfactual's.
    LifeYearsGained,
    /// Quality-adjusted life years minus the counterfactual's, in the year: from life
    /// years and segment utilities, less the QALYs lost to emergency admissions and bed
    /// days.
    QalysGained,
    /// The part of the year's QALYs gained from fewer emergency admissions and bed days.
    AdmissionQalysGained,
    /// Cumulative QALYs gained, discounted at the health rate (`[evaluation]
    /// health_discount_rate`).
    DiscountedQalysGained,
    /// The ICER: mean discounted cumulative net cost over mean discounted cumulative QALYs
    /// gained, over all runs (a ratio of means, formed in the summary, never per run).
    CostPerQaly,
    /// Threshold x discounted cumulative QALYs gained minus discounted cumulative net cost.
    NetMonetaryBenefit,
    /// 1 when the discounted cumulative net cost is at or below zero.
    BrokenEven,
    /// First year the discounted cumulative net cost reaches zero; horizon + 1 when not.
    BreakEvenYear,
    /// Quintile 1 (most deprived) minus quintile 5 of a measure, at level `imd_quintile`,
    /// area `1-5`.
    QuintileGap(Gap),
    /// The scenario's quintile gap minus the counterfactual's: negative narrows a gap where
    /// quintile 1 is higher.
    QuintileGapChange(Gap),
    /// General and acute beds the year's emergency bed days need on average at the target
    /// occupancy (`[capacity] target_occupancy`): bed days / (365 x occupancy).
    BedsRequired,
    /// Beds such that occupied beds exceed them on at most the allowed share of the year's
    /// days (5% by default: `_p95`), with Poisson occupancy and the seasonal profile
    /// (`accounts::capacity`); no occupancy target on top.
    BedsRequiredP95,
    /// The beds required without the scenario's interventions (the counterfactual).
    CounterfactualBedsRequired,
    /// The counterfactual's beds required minus the scenario's (in-year, not cumulative).
    BedsReleased,
    /// The same for the peak requirement.
    BedsReleasedP95,
    /// The area's current beds, from `[capacity] beds_file`.
    BedBase,
    /// Expected days in the year with more beds occupied than the bed base.
    DaysOverBedBase,
    /// Days over the bed base minus the counterfactual's.
    DaysOverBedBaseChange,
    /// First year the beds required pass the bed base; horizon + 1 when none does.
    BedBasePassedYear,
    /// The same without the scenario's interventions (the counterfactual).
    CounterfactualBedBasePassedYear,
    /// Enrolled person-years over the person-years the declared capacity holds.
    CapacityUtilisation,
    /// The share of the wanted enrolment capacity turned away: (wanted - enrolled) /
    /// wanted, over interventions that declare capacity.
    TurnedAwayShare,
    /// Places provided (virtual-ward or caseload), over interventions that declare places.
    PlacesProvided,
    /// Places in use on an average day: enrolled person-years x episodes x stay / 365 for
    /// virtual wards, enrolled person-years for caseload places.
    PlacesUsed,
    /// Staff the enrolment needs (whole-time equivalents), over interventions.
    StaffWte,
    /// Staff needed in one role, over interventions that name it.
    RoleStaffWte(String),
    /// Staff one intervention needs.
    InterventionStaffWte(String),
    /// Pounds: staff x `cost_per_wte` (of the staff needed, or provided when the cost
    /// follows capacity provided); a part of the programme cost, not added to it.
    StaffCost,
}

/// Metrics without a parameter, with their names: the one place a name is written
/// (`Display`) and read (`parse`).
const PLAIN: [(Metric, &str); 54] = [
    (Metric::Population, "population"),
    (Metric::Births, "births"),
    (Metric::Deaths, "deaths"),
    (Metric::LifeExpectancyMale, "life_expectancy.male"),
    (Metric::LifeExpectancyFemale, "life_expectancy.female"),
    (Metric::CareSpend, "care_spend"),
    (Metric::CareSpendPerHead, "care_spend_per_head"),
    (Metric::ProgrammeCost, "programme_cost"),
    (Metric::SetupCost, "setup_cost"),
    (Metric::TotalCost, "total_cost"),
    (Metric::TotalCostPerHead, "total_cost_per_head"),
    (Metric::CashCost, "cash_cost"),
    (Metric::CashCostPerHead, "cash_cost_per_head"),
    (Metric::Enrolled, "enrolled"),
    (Metric::FundingShift, "funding_shift"),
    (Metric::GrossSavings, "gross_savings"),
    (Metric::AddedActivityCost, "added_activity_cost"),
    (Metric::NetSavings, "net_savings"),
    (Metric::CashableSavings, "cashable_savings"),
    (Metric::RetainedFixedCost, "retained_fixed_cost"),
    (Metric::NetCost, "net_cost"),
    (Metric::CumulativeNetCost, "cumulative_net_cost"),
    (
        Metric::DiscountedCumulativeNetCost,
        "discounted_cumulative_net_cost",
    ),
    (Metric::NetCashCost, "net_cash_cost"),
    (Metric::AvoidedAdmissions, "avoided_admissions"),
    (Metric::AvoidedBedDays, "avoided_bed_days"),
    (Metric::Roi, "cumulative_roi"),
    (Metric::BenefitCostRatio, "cumulative_benefit_cost_ratio"),
    (Metric::DiscountedRoi, "discounted_cumulative_roi"),
    (Metric::DeathsAverted, "deaths_averted"),
    (Metric::LifeYearsGained, "life_years_gained"),
    (Metric::QalysGained, "qalys_gained"),
    (Metric::AdmissionQalysGained, "admission_qalys_gained"),
    (
        Metric::DiscountedQalysGained,
        "discounted_cumulative_qalys_gained",
    ),
    (Metric::CostPerQaly, "cost_per_qaly"),
    (Metric::NetMonetaryBenefit, "net_monetary_benefit"),
    (Metric::BrokenEven, "discounted_broken_even"),
    (Metric::BreakEvenYear, "discounted_break_even_year"),
    (Metric::BedsRequired, "beds_required"),
    (Metric::BedsRequiredP95, "beds_required_p95"),
    (
        Metric::CounterfactualBedsRequired,
        "counterfactual_beds_required",
    ),
    (Metric::BedsReleased, "beds_released"),
    (Metric::BedsReleasedP95, "beds_released_p95"),
    (Metric::BedBase, "bed_base"),
    (Metric::DaysOverBedBase, "days_over_bed_base"),
    (Metric::DaysOverBedBaseChange, "days_over_bed_base_change"),
    (Metric::BedBasePassedYear, "bed_base_passed_year"),
    (
        Metric::CounterfactualBedBasePassedYear,
        "counterfactual_bed_base_passed_year",
    ),
    (Metric::CapacityUtilisation, "capacity_utilisation"),
    (Metric::TurnedAwayShare, "turned_away_share"),
    (Metric::PlacesProvided, "places_provided"),
    (Metric::PlacesUsed, "places_used"),
    (Metric::StaffWte, "staff_wte"),
    (Metric::StaffCost, "staff_cost"),
];

impl Metric {
    /// A capitation metric of formula `name`.
    pub fn formula(m: FormulaMetric, name: &str) -> Metric {
        Metric::Formula(m, name.to_string())
    }

    /// The name in output tables.
    pub fn name(&self) -> String {
        self.to_string()
    }

    /// Reads a name written by [`Metric::name`]; `None` for anything else.
    pub fn parse(s: &str) -> Option<Metric> {
        if let Some((m, _)) = PLAIN.iter().find(|(_, n)| *n == s) {
            return Some(m.clone());
        }
        if let Some(id) = s.strip_prefix("count.") {
            return Setting::parse(id).map(Metric::Count);
        }
        if let Some(id) = s.strip_prefix("care_spend.") {
            return Sector::parse(id).map(Metric::SectorSpend);
        }
        if let Some(id) = s.strip_prefix("quintile_gap.") {
            return Gap::parse(id).map(Metric::QuintileGap);
        }
        if let Some(id) = s.strip_prefix("quintile_gap_change.") {
            return Gap::parse(id).map(Metric::QuintileGapChange);
        }
        if let Some(role) = s.strip_prefix("staff_wte.") {
            return (!role.is_empty()).then(|| Metric::RoleStaffWte(role.to_string()));
        }
        if let Some(name) = s.strip_prefix("staff_wte:") {
            return (!name.is_empty()).then(|| Metric::InterventionStaffWte(name.to_string()));
        }
        let (kind, formula) = s.split_once(':')?;
        let m = FormulaMetric::parse(kind)?;
        (!formula.is_empty()).then(|| Metric::formula(m, formula))
    }

    pub fn unit(&self) -> Unit {
        match self {
            Metric::Population => Unit::People,
            Metric::Births | Metric::Deaths | Metric::Count(_) => Unit::Count,
            Metric::LifeExpectancyMale | Metric::LifeExpectancyFemale => Unit::Years,
            Metric::CareSpend
            | Metric::SectorSpend(_)
            | Metric::ProgrammeCost
            | Metric::SetupCost
            | Metric::TotalCost
            | Metric::CashCost
            | Metric::FundingShift
            | Metric::GrossSavings
            | Metric::AddedActivityCost
            | Metric::NetSavings
            | Metric::CashableSavings
            | Metric::RetainedFixedCost
            | Metric::NetCost
            | Metric::CumulativeNetCost
            | Metric::DiscountedCumulativeNetCost
            | Metric::NetCashCost => Unit::Pounds,
            Metric::CareSpendPerHead | Metric::TotalCostPerHead | Metric::CashCostPerHead => {
                Unit::PoundsPerHead
            }
            Metric::Formula(m, _) => match m {
                FormulaMetric::WeightedPopulation => Unit::PersonYears,
                FormulaMetric::BudgetPerHead => Unit::PoundsPerHead,
                _ => Unit::Pounds,
            },
            Metric::Enrolled => Unit::PersonYears,
            Metric::AvoidedAdmissions | Metric::AvoidedBedDays => Unit::Count,
            Metric::Roi | Metric::BenefitCostRatio | Metric::DiscountedRoi => Unit::Ratio,
            Metric::DeathsAverted => Unit::Count,
            Metric::LifeYearsGained => Unit::PersonYears,
            Metric::QalysGained | Metric::AdmissionQalysGained | Metric::DiscountedQalysGained => {
                Unit::Qalys
            }
            Metric::CostPerQaly => Unit::PoundsPerQaly,
            Metric::NetMonetaryBenefit => Unit::Pounds,
            Metric::BrokenEven => Unit::Indicator,
            Metric::BreakEvenYear => Unit::Year,
            Metric::QuintileGap(g) | Metric::QuintileGapChange(g) => match g {
                Gap::SpendPerHead => Unit::PoundsPerHead,
                Gap::QalysPerHead => Unit::Qalys,
                Gap::AdmissionsPer1000 | Gap::DeathsPer1000 => Unit::Count,
            },
            Metric::BedsRequired
            | Metric::CounterfactualBedsRequired
            | Metric::BedsRequiredP95
            | Metric::BedsReleased
            | Metric::BedsReleasedP95
            | Metric::BedBase
            | Metric::PlacesProvided
            | Metric::PlacesUsed => Unit::Beds,
            Metric::DaysOverBedBase | Metric::DaysOverBedBaseChange => Unit::Days,
            Metric::BedBasePassedYear | Metric::CounterfactualBedBasePassedYear => Unit::Year,
            Metric::CapacityUtilisation | Metric::TurnedAwayShare => Unit::Share,
            Metric::StaffWte | Metric::RoleStaffWte(_) | Metric::InterventionStaffWte(_) => {
                Unit::Wte
            }
            Metric::StaffCost => Unit::Pounds,
        }
    }

    /// The formula a capitation metric belongs to.
    pub fn formula_name(&self) -> Option<&str> {
        match self {
            Metric::Formula(_, f) => Some(f),
            _ => None,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Count(s) => write!(f, "count.{}", s.id()),
            Metric::SectorSpend(s) => write!(f, "care_spend.{}", s.id()),
            Metric::QuintileGap(g) => write!(f, "quintile_gap.{}", g.id()),
            Metric::QuintileGapChange(g) => write!(f, "quintile_gap_change.{}", g.id()),
            Metric::Formula(m, name) => write!(f, "{}:{name}", m.id()),
            Metric::RoleStaffWte(role) => write!(f, "staff_wte.{role}"),
            Metric::InterventionStaffWte(name) => write!(f, "staff_wte:{name}"),
            plain => {
                let (_, name) = PLAIN
                    .iter()
                    .find(|(m, _)| m == plain)
                    .expect("every parameterless metric is in PLAIN");
                f.write_str(name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric's name parses back to it, so tables round-trip.
    #[test]
    fn names_round_trip() {
        let mut all: Vec<Metric> = PLAIN.iter().map(|(m, _)| m.clone()).collect();
        all.extend(Setting::ALL.map(Metric::Count));
        all.extend(Sector::ALL.map(Metric::SectorSpend));
        all.extend(FormulaMetric::ALL.map(|m| Metric::formula(m, "need_adjusted")));
        all.extend(Gap::ALL.map(Metric::QuintileGap));
        all.extend(Gap::ALL.map(Metric::QuintileGapChange));
        all.push(Metric::RoleStaffWte("nurse".into()));
        all.push(Metric::InterventionStaffWte("Frailty virtual wards".into()));
        for m in &all {
            assert_eq!(Metric::parse(&m.name()).as_ref(), Some(m), "{m}");
        }
        assert_eq!(Metric::parse("count.nothing"), None);
        assert_eq!(Metric::parse("budget:"), None);
        assert_eq!(Metric::parse("spend_per_person"), None);
        assert_eq!(
            Metric::parse("life_expectancy.female"),
            Some(Metric::LifeExpectancyFemale)
        );
        assert_eq!(Metric::LifeExpectancyMale.unit(), Unit::Years);
        assert_eq!(Metric::parse("life_expectancy.other"), None);
    }

    /// The PLAIN table covers each parameterless variant once: a new variant missing
    /// from it fails here rather than at run time.
    #[test]
    fn plain_names_are_unique() {
        for (i, (m, n)) in PLAIN.iter().enumerate() {
            assert!(PLAIN[..i].iter().all(|(x, y)| x != m && y != n), "{n}");
            assert_eq!(m.to_string(), *n);
        }
        assert_eq!(
            Metric::SectorSpend(Sector::Acute).name(),
            "care_spend.acute"
        );
    }
}
