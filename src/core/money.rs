//! Money and whole-unit splits. Money is integer pence everywhere it is added up; it is
//! turned into pounds only when written.
//!
//! **Overflow.** Pence are `i64`. A cost is made in one place, [`cost_pence`], with checked
//! arithmetic; what it cannot represent it marks with [`OUT_OF_RANGE`] rather than wrap.
//! Before anything adds costs up, the pipeline passes every amount of a work unit through
//! [`check_total`], which refuses the marker and any unit whose absolute amounts add up to
//! more than [`MAX_UNIT_PENCE`], as a typed error (exit 2). Every sum or difference the
//! accounts then form is of a subset of those amounts, so its absolute value is at most
//! that total and it cannot overflow (a quarter of `i64::MAX` leaves room for budgets and
//! positions beside spend). This keeps `Result` out of the yearly loop.

use crate::core::error::{CapsimError, Result};

/// The marker of a cost that does not fit in `i64` pence; [`check_total`] refuses it.
pub const OUT_OF_RANGE: i64 = i64::MAX;

/// The most the absolute amounts of one work unit (every scenario, neighbourhood, year,
/// setting and segment) may add up to: about £23,000 trillion, a thousand times England's
/// yearly health and care spend for a century, so that only absurd inputs reach it.
pub const MAX_UNIT_PENCE: u64 = (i64::MAX / 4) as u64;

/// The cost of `count` units at `unit` pence each, or [`OUT_OF_RANGE`] when the product
/// overflows `i64` or the unit cost is itself out of range or negative.
#[inline]
pub fn cost_pence(count: u64, unit: i64) -> i64 {
    if !(0..OUT_OF_RANGE).contains(&unit) {
        return OUT_OF_RANGE;
    }
    i64::try_from(count)
        .ok()
        .and_then(|c| c.checked_mul(unit))
        .unwrap_or(OUT_OF_RANGE)
}

/// Whole pence of an amount computed in floating point, or [`OUT_OF_RANGE`] when it is not
/// finite or does not fit (an `as` cast would saturate, or turn NaN into 0).
#[inline]
pub fn to_pence(x: f64) -> i64 {
    let r = x.round();
    if r.is_finite() && r.abs() < 9.0e18 {
        r as i64
    } else {
        OUT_OF_RANGE
    }
}

/// Checks a work unit's money before it is added up: no amount marked out of range, and
/// the absolute amounts summing to at most [`MAX_UNIT_PENCE`]. `what` names the money in
/// the error.
pub fn check_total(amounts: impl IntoIterator<Item = i64>, what: &str) -> Result<()> {
    let mut total: u64 = 0;
    for a in amounts {
        total = match total.checked_add(a.unsigned_abs()) {
            Some(t) if a != OUT_OF_RANGE && t <= MAX_UNIT_PENCE => t,
            _ => {
                return Err(CapsimError::MoneyOutOfRange {
                    what: what.into(),
                    limit: format!("£{:.0} trillion", MAX_UNIT_PENCE as f64 / 100.0 / 1e12),
                })
            }
        };
    }
    Ok(())
}

/// Splits `total` into whole parts proportional to `weights`, summing to `total` exactly:
/// each part gets the floor of its quota, and the units left go to the largest remainders
/// (ties to the earlier index, so the result is deterministic).
pub fn largest_remainder(weights: &[f64], total: u64) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        let mut out = vec![0; weights.len()];
        if let Some(first) = out.first_mut() {
            *first = total;
        }
        return out;
    }
    let quotas: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut out: Vec<u64> = quotas.iter().map(|q| q.floor() as u64).collect();
    let assigned: u64 = out.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        let ra = quotas[*a] - quotas[*a].floor();
        let rb = quotas[*b] - quotas[*b].floor();
        rb.total_cmp(&ra).then(a.cmp(b))
    });
    for i in order
        .iter()
        .cycle()
        .take(total.saturating_sub(assigned) as usize)
    {
        out[*i] += 1;
    }
    out
}

/// Pounds of a sum of pence, for output.
pub fn pounds(pence: i64) -> f64 {
    pence as f64 / 100.0
}

/// Whole pounds with thousands separators, for people to read: £408,499, -£12,000.
pub fn whole_pounds(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    let negative = x < 0.0 && digits.chars().any(|c| c != '0');
    format!("{}£{out}", if negative { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn whole_pounds_have_thousands_separators() {
        assert_eq!(whole_pounds(408_499.4), "£408,499");
        assert_eq!(whole_pounds(1_104_715.0), "£1,104,715");
        assert_eq!(whole_pounds(999.0), "£999");
        assert_eq!(whole_pounds(-12_000.0), "-£12,000");
        assert_eq!(whole_pounds(-999.6), "-£1,000");
        assert_eq!(whole_pounds(-0.2), "£0");
    }

    #[test]
    fn costs_that_do_not_fit_are_refused_not_wrapped() {
        assert_eq!(cost_pence(3, 250), 750);
        assert_eq!(cost_pence(u64::MAX, 1), OUT_OF_RANGE);
        assert_eq!(cost_pence(1 << 40, 1 << 40), OUT_OF_RANGE);
        assert_eq!(cost_pence(2, -1), OUT_OF_RANGE);
        assert_eq!(to_pence(1e300), OUT_OF_RANGE);
        assert_eq!(to_pence(f64::NAN), OUT_OF_RANGE);
        assert_eq!(to_pence(-12.4), -12);
        assert!(check_total([1, -2, 3], "spend").is_ok());
        assert!(check_total([1, OUT_OF_RANGE], "spend").is_err());
        assert!(check_total([i64::MAX / 8, i64::MAX / 8, 10], "spend").is_err());
        assert!(check_total([i64::MIN], "spend").is_err());
    }

    proptest! {
        #[test]
        fn largest_remainder_sums_exactly(
            weights in proptest::collection::vec(0.0f64..1e6, 1..50),
            total in 0u64..10_000_000,
        ) {
            let parts = largest_remainder(&weights, total);
            prop_assert_eq!(parts.iter().sum::<u64>(), total);
        }
    }
}
