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
    /// Changes on every clear: what was derived from the old rows must start over.
    pub clears: u64,
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
        self.clears += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    pub fn len(&self) -> usize {
        self.series.values().map(Vec::len).max().unwrap_or(0)
    }
}

/// Exponential moving average with TensorBoard's debiasing, then decimated to at most
/// twice `max_points` points (min and max of each bucket kept, so spikes stay visible).
pub fn plot_points(
    raw: &[[f64; 3]],
    x_is_time: bool,
    smoothing: f64,
    log: bool,
    max_points: usize,
) -> Vec<[f64; 2]> {
    let mut curve = Decimated::new(CurveStyle {
        x_is_time,
        smoothing,
        log,
        max_points,
    });
    curve.update(raw);
    curve.points()
}

/// How a curve is drawn: what its smoothed, decimated points depend on besides the rows.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct CurveStyle {
    pub x_is_time: bool,
    pub smoothing: f64,
    pub log: bool,
    pub max_points: usize,
}

/// The smoothed, decimated points of one growing series, extended by the new rows only:
/// re-smoothing 100k rows for every new one cost the window a millisecond or more a curve.
/// It starts over when the bucket width changes (every `max_points` rows) or the series
/// is shorter than what it has seen (a cleared run).
pub struct Decimated {
    style: CurveStyle,
    bucket: usize,
    /// Rows consumed so far.
    rows: usize,
    ema: f64,
    weight: f64,
    /// Lowest and highest point of the bucket being filled.
    lo: Option<[f64; 2]>,
    hi: Option<[f64; 2]>,
    /// Points of the finished buckets.
    done: Vec<[f64; 2]>,
}

impl Decimated {
    pub fn new(style: CurveStyle) -> Self {
        Decimated {
            style,
            bucket: 1,
            rows: 0,
            ema: 0.0,
            weight: 0.0,
            lo: None,
            hi: None,
            done: Vec::new(),
        }
    }

    fn bucket_for(&self, rows: usize) -> usize {
        (rows / self.style.max_points.max(2) * 2).max(1)
    }

    /// Takes in the rows of `raw` past those already seen.
    pub fn update(&mut self, raw: &[[f64; 3]]) {
        let bucket = self.bucket_for(raw.len());
        if bucket != self.bucket || raw.len() < self.rows {
            *self = Decimated {
                bucket,
                ..Decimated::new(self.style)
            };
        }
        let CurveStyle {
            x_is_time,
            smoothing,
            log,
            ..
        } = self.style;
        for (i, r) in raw.iter().enumerate().skip(self.rows) {
            let v = r[2];
            if !v.is_finite() {
                continue;
            }
            self.ema = smoothing * self.ema + (1.0 - smoothing) * v;
            self.weight = smoothing * self.weight + (1.0 - smoothing);
            let mut y = self.ema / self.weight.max(1e-12);
            if log {
                y = y.abs().max(1e-12).log10();
            }
            let p = [if x_is_time { r[1] } else { r[0] }, y];
            if bucket == 1 {
                self.done.push(p);
                continue;
            }
            if self.lo.is_none_or(|l| p[1] < l[1]) {
                self.lo = Some(p);
            }
            if self.hi.is_none_or(|h| p[1] > h[1]) {
                self.hi = Some(p);
            }
            if (i + 1) % bucket == 0 {
                self.finish_bucket();
            }
        }
        self.rows = raw.len();
    }

    fn finish_bucket(&mut self) {
        if let (Some(l), Some(h)) = (self.lo.take(), self.hi.take()) {
            self.done.extend(if l[0] <= h[0] { [l, h] } else { [h, l] });
        }
    }

    /// The points to draw: the finished buckets and the one being filled.
    pub fn points(&self) -> Vec<[f64; 2]> {
        let mut out = Vec::with_capacity(self.done.len() + 2);
        out.extend_from_slice(&self.done);
        if let (Some(l), Some(h)) = (self.lo, self.hi) {
            out.extend(if l[0] <= h[0] { [l, h] } else { [h, l] });
        }
        out
    }
}
