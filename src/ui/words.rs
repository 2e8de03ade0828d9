//! The words a person reads for what the code calls by column and variant names: metric
//! readouts ("modes 6/8", "FD 97.2", "held-out reconstruction 75.2 nats") and choices
//! ("BCE (non-saturating)", "Leaky ReLU"), each with a sentence to hover.

use crate::config::{Activation, GanLoss, OptimizerKind, Reconstruction};

/// (column, label, unit, what it says) for every quality metric, in readout order.
pub const QUALITY: &[(&str, &str, &str, &str)] = &[
    (
        "pitch_coverage",
        "pitches",
        "%",
        "Share of the data's pitches that at least 2 generated clips play as a clear note (40 % of their energy at the spectral peak): the audio counterpart of the ring's modes.",
    ),
    (
        "tonal_share",
        "tonal",
        "",
        "Share of generated clips that are clear notes, over the data's share: 1 when the generator plays as many notes as the data holds, 0 for noise.",
    ),
    (
        "spectral_distance",
        "spectral distance",
        "dB",
        "Mean difference between the real and generated clips' average power spectra, over 32 bands: lower is better.",
    ),
    (
        "modes_covered",
        "modes",
        "",
        "Modes of the data with at least 1 % of the generated samples within 3 sigma: a collapsed generator covers one or two.",
    ),
    (
        "high_quality",
        "high quality",
        "%",
        "Share of generated samples within 3 sigma of a mode of the data.",
    ),
    (
        "kl_grid",
        "KL (grid)",
        "nats",
        "KL divergence of the real from the generated points, on 20x20 histograms: 0 when they match.",
    ),
    (
        "js_grid",
        "JS (grid)",
        "nats",
        "Jensen-Shannon divergence of the real and generated points on 20x20 histograms: 0 when they match, at most 0.69.",
    ),
    (
        "mmd",
        "MMD",
        "",
        "Maximum mean discrepancy between real and generated points with Gaussian kernels: 0 when the two distributions match.",
    ),
    (
        "diversity",
        "diversity",
        "",
        "Spread of the generated samples over the spread of the real ones: near 0 means collapse, near 1 the data's variety.",
    ),
    (
        "fd",
        "FD",
        "",
        "Frechet distance between real and generated samples on the evaluator's features (FID's formula on a small network trained on the data's labels): lower is better.",
    ),
    (
        "kid",
        "KID",
        "",
        "Kernel distance on the evaluator's features (unbiased, so usable on few samples): lower is better.",
    ),
    (
        "precision",
        "precision",
        "",
        "Share of generated samples that fall on the real samples' manifold (in the evaluator's features): fidelity.",
    ),
    (
        "recall",
        "recall",
        "",
        "Share of real samples that fall on the generated samples' manifold: coverage. A generator that makes one sample has recall 0.",
    ),
    (
        "pixel_distance",
        "pixel distance",
        "",
        "Distance between the per-pixel mean and standard deviation of real and generated images.",
    ),
    (
        "held_out_elbo",
        "held-out ELBO",
        "nats",
        "Evidence lower bound on held-out inputs: the log-likelihood the VAE at least assigns them (higher is better).",
    ),
    (
        "active_units",
        "active units",
        "",
        "Latent dimensions whose held-out KL is above 0.01 nats: the ones the code uses. 0 means the posterior collapsed.",
    ),
    (
        "g_grad_norm",
        "G gradient norm",
        "",
        "L2 norm of the generator's gradients at the last step: near 0 for many steps means they vanished.",
    ),
];

/// Column names a person reads in other places (curves, run tables).
pub fn metric_label(column: &str) -> &str {
    match column {
        "loss_d" => "D loss",
        "loss_g" => "G loss",
        "held_out_reconstruction" => "held-out reconstruction",
        "reconstruction" => "reconstruction",
        "kl" => "KL",
        other => QUALITY
            .iter()
            .find(|q| q.0 == other)
            .map(|q| q.1)
            .unwrap_or(other),
    }
}

/// A metric's value as read: three significant digits, its unit, and for mode coverage
/// the data's mode count ("modes 6/8").
pub fn reading(column: &str, value: f64, modes_total: Option<usize>) -> String {
    let label = metric_label(column);
    let unit = match column {
        "held_out_reconstruction" | "reconstruction" | "kl" => "nats",
        _ => QUALITY
            .iter()
            .find(|q| q.0 == column)
            .map(|q| q.2)
            .unwrap_or(""),
    };
    match (column, modes_total) {
        ("modes_covered", Some(total)) => format!("{label} {value:.0}/{total}"),
        // Coverage is stored as a share; with the count known it reads as one.
        ("pitch_coverage", Some(total)) => {
            format!("{label} {:.0}/{total}", value * total as f64)
        }
        ("modes_covered" | "active_units", _) => format!("{label} {value:.0}"),
        _ if unit == "%" => format!("{label} {:.0} %", value * 100.0),
        _ if unit.is_empty() => format!("{label} {}", significant(value)),
        _ => format!("{label} {} {unit}", significant(value)),
    }
}

/// Three significant digits, without trailing noise: 97.2, 0.0964, 1230.
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

/// The number of modes of a run's data, for "modes 6/8": the toy sets' Gaussians, the
/// built-in tones' pitches.
pub fn modes_of(exp: &crate::config::Experiment) -> Option<usize> {
    match &exp.data {
        crate::config::DataConfig::Toy { shape, .. } => {
            Some(crate::data::toy::modes(*shape).len()).filter(|&n| n > 0)
        }
        crate::config::DataConfig::Tones { .. } => {
            Some(crate::modality::audio::tones::PITCHES.len())
        }
        _ => None,
    }
}
