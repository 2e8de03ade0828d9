//! Loss curves with smoothing, log scale and a step / wall-time axis.

use super::app::GenLabApp;
use crate::run::history::plot_points;
use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// Points drawn per curve, whatever the history length.
const MAX_DRAWN: usize = 2000;

/// Curves worth plotting together (the others have other scales).
pub fn is_loss(name: &str) -> bool {
    matches!(
        name,
        "loss_d" | "loss_g" | "loss" | "reconstruction" | "kl" | "held_out_reconstruction"
    )
}

pub fn curves_ui(app: &mut GenLabApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("Loss curves");
        ui.add(egui::Slider::new(&mut app.smoothing, 0.0..=0.99).text("smoothing"));
        ui.checkbox(&mut app.log_scale, "log scale");
        ui.checkbox(&mut app.x_by_time, "x = wall time (s)");
        if let Some(m) = &app.history.last {
            for name in [
                "modes_covered",
                "high_quality",
                "pixel_distance",
                "active_units",
            ] {
                if let Some(v) = app.history.series.get(name).and_then(|s| s.last()) {
                    ui.label(format!("{name}: {:.3}", v[2]));
                }
            }
            let _ = m;
        }
    });
    let plot = Plot::new("loss_curves")
        .legend(Legend::default())
        .x_axis_label(if app.x_by_time { "seconds" } else { "step" })
        .y_axis_label(if app.log_scale { "log10(loss)" } else { "loss" });
    // Smoothing and decimating 100k points is cheap but not free: redo it only when the
    // history or the view settings change, not on every frame.
    let key = (
        app.history.version,
        app.smoothing.to_bits(),
        app.log_scale,
        app.x_by_time,
    );
    if app.curve_cache.as_ref().is_none_or(|(k, _)| *k != key) {
        let curves = app
            .history
            .series
            .iter()
            .filter(|(name, _)| is_loss(name))
            .map(|(name, raw)| {
                (
                    *name,
                    plot_points(raw, app.x_by_time, app.smoothing, app.log_scale, MAX_DRAWN),
                )
            })
            .collect();
        app.curve_cache = Some((key, curves));
    }
    let curves = app
        .curve_cache
        .as_ref()
        .map(|(_, c)| c.as_slice())
        .unwrap_or_default();
    plot.show(ui, |plot_ui| {
        for (name, pts) in curves {
            plot_ui.line(Line::new(*name, PlotPoints::from(pts.clone())));
        }
    });
}
