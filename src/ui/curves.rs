//! Loss curves with smoothing, log scale and a step / wall-time axis.

use super::app::GenLabApp;
use super::words;
use crate::run::history::plot_points;
use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// Points drawn per curve, whatever the history length.
const MAX_DRAWN: usize = 2000;

/// Curves worth plotting together (the others have other scales).
pub fn is_loss(name: &str) -> bool {
    matches!(
        name,
        "loss_d"
            | "loss_g"
            | "loss"
            | "reconstruction"
            | "kl"
            | "held_out_reconstruction"
            | "held_out_bpc"
    )
}

/// The latest value of every quality metric the run reports (hover for its meaning), and
/// a choice of one to plot; returns that one's name and points.
fn quality_readout_ui(app: &mut GenLabApp, ui: &mut egui::Ui) -> Option<(String, Vec<[f64; 2]>)> {
    let data = &app.run.experiment.as_ref().unwrap_or(&app.experiment).data;
    let present: Vec<(&str, &str, f64)> = words::quality_metrics(data)
        .into_iter()
        .filter_map(|m| {
            let v = app.run.history.series.get(m.column)?.last()?[2];
            Some((m.column, m.help, v))
        })
        .collect();
    if present.is_empty() {
        return None;
    }
    let modes_total = words::modes_of(&app.experiment);
    ui.horizontal_wrapped(|ui| {
        for (name, what, v) in &present {
            ui.label(words::reading(name, *v, modes_total))
                .on_hover_text(*what);
        }
        let current = if present.iter().any(|(n, ..)| *n == app.quality_metric) {
            app.quality_metric.clone()
        } else {
            present[0].0.to_string()
        };
        let mut chosen = current.clone();
        egui::ComboBox::new("quality_metric", "plot")
            .selected_text(words::metric_label(&chosen))
            .show_ui(ui, |ui| {
                for (name, ..) in &present {
                    ui.selectable_value(&mut chosen, name.to_string(), words::metric_label(name));
                }
            });
        app.quality_metric = chosen;
    });
    let name = app.quality_metric.clone();
    let raw = app.run.history.series.get(name.as_str())?;
    Some((name, plot_points(raw, app.x_by_time, 0.0, false, MAX_DRAWN)))
}

/// The chosen quality metric's curve.
fn quality_plot_ui(ui: &mut egui::Ui, name: &str, pts: Vec<[f64; 2]>, x_by_time: bool) {
    Plot::new("quality_plot")
        .legend(Legend::default())
        .x_axis_label(if x_by_time { "seconds" } else { "step" })
        .show(ui, |plot_ui| {
            plot_ui.line(Line::new(words::metric_label(name), PlotPoints::from(pts)));
        });
}

pub fn curves_ui(app: &mut GenLabApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("Loss curves");
        super::app::enlarge_button(&mut app.enlarged, super::app::Enlarged::Curves, ui);
        ui.add(egui::Slider::new(&mut app.smoothing, 0.0..=0.99).text("smoothing"));
        ui.checkbox(&mut app.log_scale, "log scale");
        ui.checkbox(&mut app.x_by_time, "x = wall time (s)");
    });
    super::evaluator_job::evaluator_ui(app, ui);
    let quality = quality_readout_ui(app, ui);
    let plot = Plot::new("loss_curves")
        .legend(Legend::default())
        .x_axis_label(if app.x_by_time { "seconds" } else { "step" })
        .y_axis_label(if app.log_scale { "log10(loss)" } else { "loss" });
    // Smoothing and decimating 100k points is cheap but not free: redo it only when the
    // history or the view settings change, not on every frame.
    let key = (
        app.run.history.version,
        app.smoothing.to_bits(),
        app.log_scale,
        app.x_by_time,
    );
    if app.curve_cache.as_ref().is_none_or(|(k, _)| *k != key) {
        let curves = app
            .run
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
    let draw_losses = |ui: &mut egui::Ui| {
        plot.show(ui, |plot_ui| {
            for (name, pts) in curves {
                plot_ui.line(Line::new(
                    words::metric_label(name),
                    PlotPoints::from(pts.clone()),
                ));
            }
        });
    };
    // Losses and the quality metric side by side, each the area's full height.
    match quality {
        Some((name, pts)) => {
            let x_by_time = app.x_by_time;
            ui.columns(2, |cols| {
                draw_losses(&mut cols[0]);
                quality_plot_ui(&mut cols[1], &name, pts, x_by_time);
            });
        }
        None => draw_losses(ui),
    }
}
