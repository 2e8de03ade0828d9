//! Training: the session thread, one step per model family, losses.

mod classes;
pub mod device;
pub mod events;
mod gan;
mod lm;
pub mod losses;
mod optim;
pub mod preview;
pub mod sequences;
mod text_gan;
mod text_vae;
pub use optim::{build as build_optimizer, fused_adam_isa};
pub mod quality;
pub mod session;
pub mod state;
pub mod tensors;
pub mod trainer;
mod vae;

pub use crate::modality::points::snapshots::GRID_CELLS;
pub use crate::modality::points::views::bounds_of;
pub use events::{
    AudioView, Control, Event, FailureKind, Metrics, Part, PointsView, RgbaImage, Samples,
    Snapshot, TextView, View,
};
pub use session::Session;
pub use trainer::Trainer;

use crate::config::Experiment;

/// Columns of metrics.csv for an experiment, in order (after `step` and `elapsed`): the
/// model family's, then the quality metrics its modality declares.
pub fn metric_columns(exp: &Experiment) -> Vec<&'static str> {
    let family: &[&'static str] = match exp.model {
        crate::config::ModelConfig::Gan { .. } => &[
            "loss_d",
            "loss_g",
            "d_real",
            "d_fake",
            "g_grad_norm",
            "lr_g",
            "lr_d",
        ],
        crate::config::ModelConfig::Vae { .. } if exp.data.is_text() => &[
            "loss",
            "reconstruction",
            "kl",
            "lr_g",
            "held_out_reconstruction",
            "held_out_elbo",
            "active_units",
            "held_out_bpc",
        ],
        crate::config::ModelConfig::Vae { .. } => &[
            "loss",
            "reconstruction",
            "kl",
            "lr_g",
            "held_out_reconstruction",
            "held_out_elbo",
            "held_out_log_likelihood",
            "active_units",
        ],
        crate::config::ModelConfig::LanguageModel { .. } => &["loss", "lr_g", "held_out_bpc"],
    };
    let conditional: &[&'static str] = match exp.model {
        crate::config::ModelConfig::Gan {
            conditional: true, ..
        } => &["class_loss", "class_match"],
        _ => &[],
    };
    let quality = crate::modality::of(&exp.data).quality(&exp.data, exp.is_gan());
    family
        .iter()
        .chain(conditional)
        .copied()
        .chain(quality.iter().map(|m| m.column))
        .collect()
}
