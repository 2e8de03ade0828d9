//! The words a person reads for what the code calls by column and variant names: metric
//! readouts ("modes 6/8", "FD 97.2", "held-out reconstruction 75.2 nats") and choices
//! ("BCE (non-saturating)", "Leaky ReLU"), each with a sentence to hover.

use crate::config::{Activation, GanLoss, OptimizerKind, Reconstruction};
use crate::eval::metric::Metric;

/// Metrics of the model families rather than of a kind of data, in readout order.
const FAMILY: [Metric; 6] = [
    Metric::new(
        "held_out_bpc",
        "held-out bits/char",
        "bits",
        "Average bits the language model needs per held-out character (each item's end counted): the data's unigram entropy for a model that learnt only letter frequencies; lower is better.",
    ),
    Metric::new(
        "held_out_elbo",
        "held-out ELBO",
        "nats",
        "Evidence lower bound on held-out inputs, with one sampled latent each (fixed noise): the log-likelihood the VAE at least assigns them (higher is better).",
    ),
    Metric::new(
        "held_out_log_likelihood",
        "held-out log-likelihood",
        "nats",
        "Importance-weighted estimate of log p(x) on 32 held-out inputs with 64 latents each, at every snapshot: a tighter bound than the ELBO (higher is better).",
    ),
    Metric::new(
        "active_units",
        "active units",
        "",
        "Latent dimensions whose held-out KL is above 0.01 nats: the ones the code uses. 0 means the posterior collapsed.",
    ),
    Metric::new(
        "g_grad_norm",
        "G gradient norm",
        "",
        "L2 norm of the generator's gradients at the last step: near 0 for many steps means they vanished.",
    ),
    Metric::new(
        "class_match",
        "class match",
        "",
        "Share of a conditional GAN's generated batch that the discriminator's classifier puts in the class the generator was asked for: near 1/classes means the generator ignores its class.",
    ),
];

/// Every quality metric a run may report, once each, in readout order: those of the run's
/// modality as it declares them, the other modalities', then the families'.
pub fn quality_metrics(data: &crate::config::DataConfig) -> Vec<Metric> {
    let own = crate::modality::of(data);
    let mut all: Vec<Metric> = Vec::new();
    for m in std::iter::once(own)
        .chain(crate::modality::ALL)
        .flat_map(|m| m.metrics())
        .chain(&FAMILY)
    {
        if !all.iter().any(|a| a.column == m.column) {
            all.push(*m);
        }
    }
    all
}

/// A metric's declaration by its column, whoever declares it.
fn metric(column: &str) -> Option<Metric> {
    FAMILY
        .iter()
        .find(|m| m.column == column)
        .copied()
        .or_else(|| crate::modality::metric(column))
}

/// Column names a person reads in other places (curves, run tables).
pub fn metric_label(column: &str) -> &str {
    match column {
        "loss_d" => "D loss",
        "loss_g" => "G loss",
        "class_loss" => "D class loss",
        "held_out_reconstruction" => "held-out reconstruction",
        "reconstruction" => "reconstruction",
        "kl" => "KL",
        other => metric(other).map_or(other, |m| m.label),
    }
}

/// A metric's value as read: three significant digits, its unit, and for mode coverage
/// the data's mode count ("modes 6/8").
pub fn reading(column: &str, value: f64, modes_total: Option<usize>) -> String {
    let label = metric_label(column);
    let unit = match column {
        "held_out_reconstruction" | "reconstruction" | "kl" => "nats",
        _ => metric(column).map_or("", |m| m.unit),
    };
    match (column, modes_total) {
        ("modes_covered" | "classes_covered", Some(total)) => {
            format!("{label} {value:.0}/{total}")
        }
        // Coverage is stored as a share; with the count known it reads as one.
        ("pitch_coverage", Some(total)) => {
            format!("{label} {:.0}/{total}", value * total as f64)
        }
        ("modes_covered" | "classes_covered" | "active_units", _) => {
            format!("{label} {value:.0}")
        }
        _ if unit == "%" => format!("{label} {:.0} %", value * 100.0),
        _ if unit.is_empty() => format!("{label} {}", significant(value)),
        _ => format!("{label} {} {unit}", significant(value)),
    }
}

/// Three significant digits, without trailing noise: 97.2, 0.0964, 1230.
/// Whether a larger value of the metric `column` is better (coverage, precision,
/// likelihoods), as opposed to a loss or a distance.
pub fn higher_is_better(column: &str) -> bool {
    const HIGHER: [&str; 13] = [
        "novelty",
        "uniqueness",
        "classes",
        "active_units",
        "high_quality",
        "tonal_share",
        "modes",
        "precision",
        "recall",
        "diversity",
        "elbo",
        "likelihood",
        "coverage",
    ];
    HIGHER.iter().any(|h| column.contains(h))
}

pub fn significant(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().max(1e-12).log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 6) as usize;
    format!("{v:.decimals$}")
}

/// What a choice is called in the editor, and what it does in one sentence.
pub trait Words {
    fn words(self) -> (&'static str, &'static str);
}

impl Words for GanLoss {
    fn words(self) -> (&'static str, &'static str) {
        match self {
            GanLoss::Bce => ("BCE (non-saturating)", "Binary cross-entropy; the generator maximises log D(G(z)), the original GAN's non-saturating form."),
            GanLoss::LeastSquares => ("Least squares (LSGAN)", "Squared error to the real and fake targets: smoother gradients than BCE far from the data."),
            GanLoss::Hinge => ("Hinge", "Hinge loss on the discriminator's margin, as in SAGAN and BigGAN."),
            GanLoss::Wasserstein => ("Wasserstein (WGAN)", "The critic estimates the Wasserstein distance; its weights are clipped to keep it Lipschitz."),
        }
    }
}

impl Words for Activation {
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Activation::Relu => ("ReLU", "max(0, x)."),
            Activation::LeakyRelu => (
                "Leaky ReLU",
                "x, or 0.2 x below 0: no unit goes silent (the DCGAN discriminator's choice).",
            ),
            Activation::Tanh => ("tanh", "Smooth and bounded in (-1, 1)."),
            Activation::Elu => (
                "ELU",
                "x, or exp(x) - 1 below 0: smooth, with negative outputs.",
            ),
        }
    }
}

impl Words for Reconstruction {
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Reconstruction::Bce => (
                "Binary cross-entropy",
                "For pixels in [0, 1]: the log-likelihood of a Bernoulli decoder, in nats.",
            ),
            Reconstruction::Mse => (
                "Squared error",
                "For real-valued data: the log-likelihood of a Gaussian decoder, up to a constant.",
            ),
        }
    }
}

impl Words for OptimizerKind {
    fn words(self) -> (&'static str, &'static str) {
        match self {
            OptimizerKind::Adam => (
                "Adam",
                "Adaptive moments; beta1 0.5 is the usual choice for GANs.",
            ),
            OptimizerKind::Sgd => ("SGD", "Plain stochastic gradient descent."),
            OptimizerKind::RmsProp => (
                "RMSProp",
                "Adaptive step sizes without momentum, as WGAN uses.",
            ),
        }
    }
}

/// A drop-down of `options` under their words, each explained on hover.
pub fn choice<T: Words + Copy + PartialEq>(
    ui: &mut eframe::egui::Ui,
    id: impl std::hash::Hash + std::fmt::Debug,
    label: &str,
    value: &mut T,
    options: &[T],
) {
    let (name, what) = value.words();
    eframe::egui::ComboBox::new(id, label)
        .selected_text(name)
        .show_ui(ui, |ui| {
            for &o in options {
                let (n, w) = o.words();
                ui.selectable_value(value, o, n).on_hover_text(w);
            }
        })
        .response
        .on_hover_text(what);
}
