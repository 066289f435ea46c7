//! Chart 6: population pyramids by segment, first and last year.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if d.population.is_empty() {
        return Err("needs a population table");
    }
    Ok(format!(
        "Population by age, sex and segment: year 1 and year {}",
        d.last_year() + 1
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let years: Vec<i32> = {
        let mut v: Vec<i32> = d.population.iter().map(|p| p.0).collect();
        v.sort_unstable();
        v.dedup();
        vec![v[0], *v.last().unwrap_or(&v[0])]
    };
    let mut bands: Vec<String> = Vec::new();
    for p in &d.population {
        if !bands.contains(&p.1) {
            bands.push(p.1.clone());
        }
    }
    bands.sort_by_key(|b| {
        b.split(['-', '+'])
            .next()
            .and_then(|x| x.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let mut segments: Vec<String> = Vec::new();
    for p in &d.population {
        if !segments.contains(&p.3) {
            segments.push(p.3.clone());
        }
    }
    // A key along the bottom, outside the plots, so it never hides a bar.
    let (top, key) = root.split_vertically(root.dim_in_pixel().1 as i32 - sz(40.0, k) as i32);
    // Entries laid out by the width of their text (about 0.6 em a character).
    let mut x = sz(20.0, k) as i32;
    for (si, seg) in segments.iter().enumerate() {
        let label = seg.replace('_', " ");
        let y = sz(12.0, k) as i32;
        let box_size = sz(14.0, k) as i32;
        key.draw(&Rectangle::new(
            [(x, y), (x + box_size, y + box_size)],
            PALETTE[si % PALETTE.len()].filled(),
        ))
        .map_err(err)?;
        key.draw(&Text::new(
            label.clone(),
            (x + box_size + sz(6.0, k) as i32, y),
            axis_font(k),
        ))
        .map_err(err)?;
        x += box_size + sz(6.0 + 12.0 * 0.62 * label.chars().count() as f64 + 24.0, k) as i32;
    }
    let panels = top.split_evenly((1, 2));
    let max = d
        .population
        .iter()
        .filter(|p| years.contains(&p.0))
        .fold(BTreeMap::<(i32, String, String), f64>::new(), |mut m, p| {
            *m.entry((p.0, p.1.clone(), p.2.clone())).or_default() += p.4;
            m
        })
        .values()
        .fold(0.0f64, |a, b| a.max(*b))
        * 1.05;
    for (panel, year) in panels.iter().zip(&years) {
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("start of year {year}: men left, women right"),
                label_font(k),
            )
            .margin(sz(10.0, k))
            .x_label_area_size(sz(45.0, k))
            .y_label_area_size(sz(55.0, k))
            .build_cartesian_2d(-max..max, -0.5..bands.len() as f64 - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(bands.len())
            .y_label_formatter(&|y| bands.get(y.round() as usize).cloned().unwrap_or_default())
            .x_labels(5)
            .x_label_formatter(&|x| count(x.abs()))
            .x_desc("people")
            .label_style(axis_font(k))
            .axis_desc_style(label_font(k))
            .draw()
            .map_err(err)?;
        for (si, seg) in segments.iter().enumerate() {
            let colour = PALETTE[si % PALETTE.len()];
            let mut rects = Vec::new();
            for (bi, band) in bands.iter().enumerate() {
                for (sex, dir) in [("male", -1.0), ("female", 1.0)] {
                    let below: f64 = segments[..si]
                        .iter()
                        .map(|g| {
                            d.population
                                .iter()
                                .filter(|p| p.0 == *year && p.1 == *band && p.2 == sex && p.3 == *g)
                                .map(|p| p.4)
                                .sum::<f64>()
                        })
                        .sum();
                    let here: f64 = d
                        .population
                        .iter()
                        .filter(|p| p.0 == *year && p.1 == *band && p.2 == sex && p.3 == *seg)
                        .map(|p| p.4)
                        .sum();
                    rects.push(Rectangle::new(
                        [
                            (dir * below, bi as f64 - 0.4),
                            (dir * (below + here), bi as f64 + 0.4),
                        ],
                        colour.filled(),
                    ));
                }
            }
            chart.draw_series(rects).map_err(err)?;
        }
    }
    Ok(())
}
