//! Money and whole-unit splits. Money is integer pence everywhere it is added up; it is
//! turned into pounds only when written.

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
