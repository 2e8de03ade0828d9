//! The loss curves' smoothing and decimation: extended row by row as a run goes, they
//! equal the curves made from the whole history at once.

use genlab::run::history::{plot_points, CurveStyle, Decimated};

/// A noisy loss with spikes and a few non-finite rows, as a real run can log.
fn rows(n: usize) -> Vec<[f64; 3]> {
    (0..n)
        .map(|i| {
            let x = i as f64;
            let v = match i % 997 {
                0 => f64::NAN,
                500 => 40.0,
                _ => 1.0 + (x * 0.013).sin() * 0.3 + ((i * 7919) % 101) as f64 * 0.004,
            };
            [x * 10.0, x * 0.02, v]
        })
        .collect()
}

#[test]
fn curves_extended_row_by_row_equal_the_curves_made_at_once() {
    let all = rows(9_000);
    for style in [
        CurveStyle {
            x_is_time: false,
            smoothing: 0.6,
            log: false,
            max_points: 2000,
        },
        CurveStyle {
            x_is_time: true,
            smoothing: 0.0,
            log: true,
            max_points: 300,
        },
    ] {
        let mut curve = Decimated::new(style);
        // Uneven arrivals, crossing several bucket widths (every max_points rows).
        let mut end = 0;
        let mut chunk = 1;
        while end < all.len() {
            end = (end + chunk).min(all.len());
            chunk = chunk * 3 % 71 + 1;
            curve.update(&all[..end]);
            let at_once = plot_points(
                &all[..end],
                style.x_is_time,
                style.smoothing,
                style.log,
                style.max_points,
            );
            assert_eq!(curve.points(), at_once, "after {end} rows, {style:?}");
            // Buckets of two or more rows, two points each.
            assert!(curve.points().len() <= 2 * style.max_points + 2);
        }
        // The spike survives decimation: its bucket's maximum is drawn.
        let top = curve.points().iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        let smoothed_spike = if style.log { 1.0 } else { 10.0 };
        assert!(top > smoothed_spike, "spike lost: highest point {top}");
        // A cleared run (fewer rows than seen) starts over.
        let fresh = rows(50);
        curve.update(&fresh);
        assert_eq!(
            curve.points(),
            plot_points(
                &fresh,
                style.x_is_time,
                style.smoothing,
                style.log,
                style.max_points
            )
        );
    }
}
