//! Training: the session thread, one step per model family, losses.

pub mod device;
pub mod events;
mod gan;
pub mod losses;
mod optim;
pub mod preview;
pub use optim::fused_adam_isa;
pub mod quality;
pub mod session;
pub mod state;
pub mod tensors;
mod trainer;
mod vae;

pub use events::{
    AudioView, Control, Event, FailureKind, Metrics, Part, PointsView, RgbaImage, Samples, Snapshot,
};
pub use session::Session;
pub use trainer::Trainer;

use crate::config::Experiment;

/// Columns of metrics.csv for an experiment, in order (after `step` and `elapsed`).
pub fn metric_columns(exp: &Experiment) -> Vec<&'static str> {
    use crate::config::{DataConfig, ToyShape};
    // Quality on an evaluator's features (empty without an evaluator).
    use crate::eval::features::SCORES;
    use crate::modality::audio::quality::METRICS as AUDIO_QUALITY;
    if exp.is_gan() {
        let mut c = vec![
            "loss_d",
            "loss_g",
            "d_real",
            "d_fake",
            "g_grad_norm",
            "lr_g",
            "lr_d",
        ];
        match &exp.data {
            DataConfig::Toy {
                shape: ToyShape::Ring | ToyShape::Grid,
                ..
            } => c.extend([
                "mmd",
                "kl_grid",
                "js_grid",
                "diversity",
                "modes_covered",
                "high_quality",
            ]),
            d if d.is_points() => c.extend(["mmd", "kl_grid", "js_grid", "diversity"]),
            d if d.is_audio() => c.extend(AUDIO_QUALITY.into_iter().chain(SCORES)),
            _ => {
                c.push("pixel_distance");
                c.extend(SCORES);
            }
        }
        c
    } else {
        let mut c = vec![
            "loss",
            "reconstruction",
            "kl",
            "lr_g",
            "held_out_reconstruction",
            "held_out_elbo",
            "active_units",
        ];
        if exp.data.is_audio() {
            c.extend(AUDIO_QUALITY);
        }
        if !exp.data.is_points() {
            c.extend(SCORES);
        }
        c
    }
}
