//! Line charts in the HTML report: the curves ops add (a training stage's loss and
//! learning rate by step), as inline SVG, so the report stays one self-contained file.
//!
//! Linear axes (a loss curve's interesting part is its last stretch, which a log scale
//! would flatten); non-finite points are skipped; a series longer than [`MAX_POINTS`] is
//! reduced by keeping each bucket's minimum and maximum, which preserves spikes.

use std::fmt::Write;

use super::html::esc;
use super::Report;
use crate::op::{CurveSeries, ReportCurve};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;
/// Points drawn per series at most.
pub const MAX_POINTS: usize = 1000;
const COLORS: [&str; 4] = ["#2563eb", "#dc2626", "#059669", "#7c3aed"];

macro_rules! put {
    ($out:expr, $($arg:tt)*) => {
        let _ = write!($out, $($arg)*);
    };
}

/// Every stage's curves, each in a section of its own.
pub(super) fn curves(out: &mut String, report: &Report) {
    for s in &report.stages {
        for c in &s.curves {
            put!(
                out,
                "<section>\n<h2>{} <span class=\"note\">({})</span></h2>\n",
                esc(&c.title),
                esc(&s.name)
            );
            chart(out, c);
            put!(out, "</section>\n");
        }
    }
}

/// The finite points of a series, reduced to at most [`MAX_POINTS`].
pub fn drawable(series: &CurveSeries) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = series
        .points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if points.len() <= MAX_POINTS {
        return points;
    }
    let buckets = MAX_POINTS / 2;
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(MAX_POINTS);
    for chunk in points.chunks(size) {
        let lo = chunk.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = chunk.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            // In x order, so the line does not double back.
            let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
            out.push(a);
            if b != a {
                out.push(b);
            }
        }
    }
    out
}

fn number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// One chart.
pub fn chart(out: &mut String, c: &ReportCurve) {
    let series: Vec<Vec<(f64, f64)>> = c.series.iter().map(drawable).collect();
    let all: Vec<(f64, f64)> = series.iter().flatten().copied().collect();
    if all.is_empty() {
        put!(out, "<p class=\"note\">No finite points to draw.</p>\n");
        return;
    }
    let (mut x0, mut x1) = bounds(all.iter().map(|p| p.0));
    let (mut y0, mut y1) = bounds(all.iter().map(|p| p.1));
    if x1 <= x0 {
        x0 -= 0.5;
        x1 += 0.5;
    }
    if y1 <= y0 {
        let pad = y0.abs().max(1.0) * 0.05;
        y0 -= pad;
        y1 += pad;
    }
    let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * ph;
    put!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">\n",
        esc(&c.title)
    );
    put!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{}\" stroke=\"#999\"/>\n",
        TOP + ph,
        LEFT + pw,
        TOP + ph,
        TOP + ph
    );
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let (xv, yv) = (x0 + f * (x1 - x0), y0 + f * (y1 - y0));
        put!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>\n",
            sx(xv),
            TOP + ph + 14.0,
            esc(&number(xv)),
            LEFT - 4.0,
            sy(yv) + 3.0,
            esc(&number(yv))
        );
    }
    put!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
        LEFT + pw / 2.0,
        HEIGHT - 4.0,
        esc(&c.x_label)
    );
    for (i, (s, pts)) in c.series.iter().zip(&series).enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        if pts.len() == 1 {
            put!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>\n",
                sx(pts[0].0),
                sy(pts[0].1)
            );
        } else {
            put!(
                out,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>\n",
                path.join(" ")
            );
        }
        let last = pts.last().map(|p| number(p.1)).unwrap_or_default();
        put!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"{color}\" text-anchor=\"end\">{} (last {})</text>\n",
            LEFT + pw,
            TOP + 12.0 + 13.0 * i as f64,
            esc(&s.name),
            esc(&last)
        );
    }
    put!(out, "</svg>\n");
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(points: Vec<(f64, f64)>) -> ReportCurve {
        ReportCurve {
            title: "t: loss <1>".into(),
            x_label: "step".into(),
            y_label: "loss".into(),
            series: vec![CurveSeries {
                name: "train".into(),
                points,
            }],
        }
    }

    #[test]
    fn draws_escapes_and_survives_odd_input() {
        let mut out = String::new();
        chart(
            &mut out,
            &curve(vec![(1.0, 2.0), (2.0, f64::NAN), (3.0, 1.0)]),
        );
        assert!(out.contains("<polyline") && out.contains("t: loss &lt;1&gt;"));
        assert!(!out.contains("NaN"));
        let mut one = String::new();
        chart(&mut one, &curve(vec![(1.0, 5.0)]));
        assert!(one.contains("<circle"));
        let mut none = String::new();
        chart(&mut none, &curve(vec![]));
        assert!(none.contains("No finite points"));
    }

    #[test]
    fn long_series_keep_their_extremes() {
        let points: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64, if i == 54_321 { 99.0 } else { (i % 7) as f64 }))
            .collect();
        let s = CurveSeries {
            name: "x".into(),
            points,
        };
        let d = drawable(&s);
        assert!(d.len() <= MAX_POINTS);
        assert!(d.iter().any(|p| p.1 == 99.0), "the spike survives");
        assert!(d.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
