//! The metrics of the current run, kept in full and decimated for drawing.

use crate::train::Metrics;
use std::collections::BTreeMap;

/// Full history per metric: (step, wall seconds, value).
#[derive(Default)]
pub struct History {
    pub series: BTreeMap<&'static str, Vec<[f64; 3]>>,
    pub last: Option<Metrics>,
    /// Changes on every push or clear, so views can cache what they derive.
    pub version: u64,
}

impl History {
    pub fn push(&mut self, m: &Metrics) {
        for (name, v) in &m.values {
            self.series
                .entry(name)
                .or_default()
                .push([m.step as f64, m.elapsed, *v]);
        }
        self.last = Some(m.clone());
        self.version += 1;
    }

    pub fn clear(&mut self) {
        self.series.clear();
        self.last = None;
        self.version += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    pub fn len(&self) -> usize {
        self.series.values().map(Vec::len).max().unwrap_or(0)
    }
}

/// Exponential moving average with TensorBoard's debiasing, then at most `max_points`
/// points (min and max of each bucket kept, so spikes stay visible).
pub fn plot_points(
    raw: &[[f64; 3]],
    x_is_time: bool,
    smoothing: f64,
    log: bool,
    max_points: usize,
) -> Vec<[f64; 2]> {
    let mut out = Vec::with_capacity(raw.len().min(max_points + 2));
    let bucket = (raw.len() / max_points.max(2) * 2).max(1);
    let mut ema = 0.0;
    let mut weight = 0.0;
    let mut lo: Option<[f64; 2]> = None;
    let mut hi: Option<[f64; 2]> = None;
    for (i, r) in raw.iter().enumerate() {
        let v = r[2];
        if !v.is_finite() {
            continue;
        }
        ema = smoothing * ema + (1.0 - smoothing) * v;
        weight = smoothing * weight + (1.0 - smoothing);
        let mut y = ema / weight.max(1e-12);
        if log {
            y = y.abs().max(1e-12).log10();
        }
        let p = [if x_is_time { r[1] } else { r[0] }, y];
        if bucket == 1 {
            out.push(p);
            continue;
        }
        if lo.is_none_or(|l| p[1] < l[1]) {
            lo = Some(p);
        }
        if hi.is_none_or(|h| p[1] > h[1]) {
            hi = Some(p);
        }
        if (i + 1) % bucket == 0 || i + 1 == raw.len() {
            if let (Some(l), Some(h)) = (lo.take(), hi.take()) {
                if l[0] <= h[0] {
                    out.extend([l, h]);
                } else {
                    out.extend([h, l]);
                }
            }
        }
    }
    out
}
