//! How the user left the views (smoothing, scales, zoom, layers, the plotted metric),
//! remembered between launches with the experiment. Panel sizes and the window's size
//! are egui's own memory, persisted by eframe.

use super::app::GenLabApp;
use serde::{Deserialize, Serialize};

/// The storage key.
pub const KEY: &str = "genlab.view";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    pub smoothing: f64,
    pub log_scale: bool,
    pub x_by_time: bool,
    pub zoom: f32,
    pub show_real: bool,
    pub show_generated: bool,
    pub show_heatmap: bool,
    pub show_push: bool,
    pub show_manifold: bool,
    pub quality_metric: String,
    pub export_scale: usize,
    pub step_n: u64,
    pub show_editor: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings::of(&GenLabApp::new(
            crate::config::Experiment::default_ring_gan(),
        ))
    }
}

impl ViewSettings {
    /// The settings as the app has them now.
    pub fn of(app: &GenLabApp) -> Self {
        ViewSettings {
            smoothing: app.curves.smoothing,
            log_scale: app.curves.log_scale,
            x_by_time: app.curves.x_by_time,
            zoom: app.run.samples.zoom,
            show_real: app.run.samples.layers.real,
            show_generated: app.run.samples.layers.generated,
            show_heatmap: app.run.samples.layers.heatmap,
            show_push: app.run.samples.layers.push,
            show_manifold: app.run.samples.layers.manifold,
            quality_metric: app.curves.quality_metric.clone(),
            export_scale: app.export_scale,
            step_n: app.step_n,
            show_editor: app.show_editor,
        }
    }

    /// Applies remembered settings, each held to the range its control allows (a
    /// hand-edited or older storage file cannot put a view out of range).
    pub fn apply(&self, app: &mut GenLabApp) {
        let finite = |v: f64, lo: f64, hi: f64, default: f64| {
            if v.is_finite() {
                v.clamp(lo, hi)
            } else {
                default
            }
        };
        app.curves.smoothing = finite(self.smoothing, 0.0, 0.99, 0.6);
        app.curves.log_scale = self.log_scale;
        app.curves.x_by_time = self.x_by_time;
        app.run.samples.zoom = finite(self.zoom as f64, 0.5, 4.0, 1.0) as f32;
        app.run.samples.layers.real = self.show_real;
        app.run.samples.layers.generated = self.show_generated;
        app.run.samples.layers.heatmap = self.show_heatmap;
        app.run.samples.layers.push = self.show_push;
        app.run.samples.layers.manifold = self.show_manifold;
        app.curves.quality_metric = self.quality_metric.clone();
        app.export_scale = self.export_scale.clamp(1, 16);
        app.step_n = self.step_n.clamp(1, 100_000);
        app.show_editor = self.show_editor;
    }

    pub fn to_text(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Settings from stored text; unreadable text gives the defaults.
    pub fn from_text(text: &str) -> Option<Self> {
        toml::from_str(text).ok()
    }
}
