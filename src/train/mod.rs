//! Training: the session thread, one step per model family, losses.

pub mod events;
mod gan;
mod losses;
mod optim;
pub mod session;
pub mod state;
pub mod tensors;
mod trainer;
mod vae;

pub use events::{Control, Event, FailureKind, Metrics, PointsView, RgbaImage, Samples, Snapshot};
pub use session::Session;
pub use trainer::Trainer;

use crate::config::Experiment;

/// Columns of metrics.csv for an experiment, in order (after `step` and `elapsed`).
pub fn metric_columns(exp: &Experiment) -> Vec<&'static str> {
    use crate::config::{DataConfig, ToyShape};
    if exp.is_gan() {
        let mut c = vec!["loss_d", "loss_g", "d_real", "d_fake", "lr_g", "lr_d"];
        match &exp.data {
            DataConfig::Toy {
                shape: ToyShape::Ring | ToyShape::Grid,
                ..
            } => c.extend(["mmd", "modes_covered", "high_quality"]),
            d if d.is_points() => c.push("mmd"),
            _ => c.push("pixel_distance"),
        }
        c
    } else {
        vec![
            "loss",
            "reconstruction",
            "kl",
            "lr_g",
            "held_out_reconstruction",
            "held_out_elbo",
            "active_units",
        ]
    }
}
