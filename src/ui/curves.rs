//! Loss curves with smoothing, log scale and a step / wall-time axis.

use super::app::Enlarged;
use super::run_state::RunState;
use super::words;
use crate::config::DataConfig;
use crate::run::history::{plot_points, CurveStyle, Decimated};
use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints};

/// Points drawn per curve, whatever the history length.
const MAX_DRAWN: usize = 2000;

/// New rows redraw the curves at most this often: a metrics row can come 30 times a
/// second, and re-smoothing 100k rows each time doubled the median frame.
const REDRAW_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// Smoothed, decimated points per curve, ready to draw.
type DrawnCurves = Vec<(&'static str, Vec<[f64; 2]>)>;

/// The loss curves as last drawn, and what they were made from.
struct CurvesCache {
    /// History version and clear count.
    version: (u64, u64),
    style: CurveStyle,
    /// Each curve's decimation, extended by new rows only.
    decimated: Vec<(&'static str, Decimated)>,
    drawn: DrawnCurves,
    made: std::time::Instant,
}

/// How the curves are drawn (persisted with the window's settings), and the drawn curves.
pub struct CurvesView {
    pub smoothing: f64,
    pub log_scale: bool,
    pub x_by_time: bool,
    /// The quality metric plotted beside the losses.
    pub quality_metric: String,
    /// Smoothed, decimated curves, what they were made from, and when.
    cache: Option<CurvesCache>,
}

impl Default for CurvesView {
    fn default() -> Self {
        CurvesView {
            smoothing: 0.6,
            log_scale: false,
            x_by_time: false,
            quality_metric: String::new(),
            cache: None,
        }
    }
}

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
fn quality_readout_ui(
    view: &mut CurvesView,
    run: &RunState,
    data: &DataConfig,
    ui: &mut egui::Ui,
) -> Option<(String, Vec<[f64; 2]>)> {
    let present: Vec<(&str, &str, f64)> = words::quality_metrics(data)
        .into_iter()
        .filter_map(|m| {
            let v = run.history.series.get(m.column)?.last()?[2];
            Some((m.column, m.help, v))
        })
        .collect();
    if present.is_empty() {
        return None;
    }
    let modes_total = run.modes_total;
    ui.horizontal_wrapped(|ui| {
        for (name, what, v) in &present {
            ui.label(words::reading(name, *v, modes_total))
                .on_hover_text(*what);
        }
        let current = if present.iter().any(|(n, ..)| *n == view.quality_metric) {
            view.quality_metric.clone()
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
        view.quality_metric = chosen;
    });
    let name = view.quality_metric.clone();
    let raw = run.history.series.get(name.as_str())?;
    Some((
        name,
        plot_points(raw, view.x_by_time, 0.0, false, MAX_DRAWN),
    ))
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

/// The title row: enlarge, smoothing, scales.
pub fn curves_header_ui(view: &mut CurvesView, enlarged: &mut Option<Enlarged>, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("Loss curves");
        super::app::enlarge_button(enlarged, Enlarged::Curves, ui);
        ui.add(egui::Slider::new(&mut view.smoothing, 0.0..=0.99).text("smoothing"));
        ui.checkbox(&mut view.log_scale, "log scale");
        ui.checkbox(&mut view.x_by_time, "x = wall time (s)");
    });
}

/// The run's loss curves, and beside them its quality readout and chosen quality metric;
/// `data` names the metrics (the run's data, else the edited experiment's).
pub fn curves_ui(view: &mut CurvesView, run: &RunState, data: &DataConfig, ui: &mut egui::Ui) {
    let quality = quality_readout_ui(view, run, data, ui);
    let plot = Plot::new("loss_curves")
        .legend(Legend::default())
        .x_axis_label(if view.x_by_time { "seconds" } else { "step" })
        .y_axis_label(if view.log_scale {
            "log10(loss)"
        } else {
            "loss"
        });
    let style = CurveStyle {
        x_is_time: view.x_by_time,
        smoothing: view.smoothing,
        log: view.log_scale,
        max_points: MAX_DRAWN,
    };
    let version = (run.history.version, run.history.clears);
    // New settings or a cleared history redraw at once; new rows at most every REDRAW_EVERY.
    let stale = view.cache.as_ref().is_none_or(|c| {
        let rows_changed = c.version.0 != version.0;
        c.style != style
            || c.version.1 != version.1
            || rows_changed && (c.made.elapsed() >= REDRAW_EVERY || run.history.is_empty())
    });
    if stale {
        let old = view
            .cache
            .take()
            .filter(|c| c.style == style && c.version.1 == version.1)
            .map(|c| c.decimated)
            .unwrap_or_default();
        view.cache = Some(extend_curves(&run.history, style, old, version));
    }
    let curves = view
        .cache
        .as_ref()
        .map(|c| c.drawn.as_slice())
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
            let x_by_time = view.x_by_time;
            ui.columns(2, |cols| {
                draw_losses(&mut cols[0]);
                quality_plot_ui(&mut cols[1], &name, pts, x_by_time);
            });
        }
        None => draw_losses(ui),
    }
}

/// The loss curves with the rows that arrived since `old` was made (each curve starts over
/// where it is new).
fn extend_curves(
    history: &crate::run::history::History,
    style: CurveStyle,
    mut old: Vec<(&'static str, Decimated)>,
    version: (u64, u64),
) -> CurvesCache {
    let mut decimated = Vec::new();
    let mut drawn = Vec::new();
    for (name, raw) in history.series.iter().filter(|(name, _)| is_loss(name)) {
        let mut curve = match old.iter().position(|(n, _)| n == name) {
            Some(i) => old.swap_remove(i).1,
            None => Decimated::new(style),
        };
        curve.update(raw);
        drawn.push((*name, curve.points()));
        decimated.push((*name, curve));
    }
    CurvesCache {
        version,
        style,
        decimated,
        drawn,
        made: std::time::Instant::now(),
    }
}
