//! Named warnings, each with one plain sentence, raised from the metrics stream as a run
//! goes: mode collapse, discriminator overpowering, vanishing generator gradients,
//! posterior collapse and non-finite values. A warning fires once when its condition
//! starts, says so once when it clears, and fires again only after that.

use crate::config::{Experiment, GanLoss, ModelConfig};
use crate::train::Metrics;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Stable name: "mode collapse", "discriminator overpowering", ...
    pub name: &'static str,
    pub step: u64,
    /// What is happening and what to try, in one sentence.
    pub message: String,
    /// The condition of an earlier warning of this name no longer holds (from `step`).
    pub cleared: bool,
}

/// Diversity below this (generated spread / real spread) is a collapse.
const COLLAPSED_DIVERSITY: f64 = 0.25;
/// Consecutive metrics rows a GAN condition must hold before it is reported.
const OVERPOWER_ROWS: u32 = 20;
const VANISHING_ROWS: u32 = 10;
/// Generator gradient norms below this share of their early level count as vanished.
const VANISHED_SHARE: f64 = 0.01;
/// Steps before posterior collapse is judged (early on every KL is still small).
const POSTERIOR_WARMUP: u64 = 200;

pub struct Monitor {
    /// `None` for a VAE.
    gan_loss: Option<GanLoss>,
    peak_modes: f64,
    low_diversity_rows: u32,
    overpowered_rows: u32,
    early_grad_norms: Vec<f64>,
    low_grad_rows: u32,
    /// The warnings whose condition holds, with the step each was raised at.
    active: BTreeMap<&'static str, u64>,
}

impl Monitor {
    pub fn for_experiment(exp: &Experiment) -> Monitor {
        let gan_loss = match &exp.model {
            ModelConfig::Gan { loss, .. } => Some(*loss),
            ModelConfig::Vae { .. } | ModelConfig::LanguageModel { .. } => None,
        };
        Monitor {
            gan_loss,
            peak_modes: 0.0,
            low_diversity_rows: 0,
            overpowered_rows: 0,
            early_grad_norms: Vec::new(),
            low_grad_rows: 0,
            active: BTreeMap::new(),
        }
    }

    /// The warnings that start with this metrics row, and those that clear with it.
    pub fn observe(&mut self, m: &Metrics) -> Vec<Diagnostic> {
        let mut fired = Vec::new();
        let mut check =
            |name: &'static str, on: Option<String>, active: &mut BTreeMap<_, _>| match on {
                Some(message) => {
                    // Raised once: the step it started at stays while it holds.
                    if let std::collections::btree_map::Entry::Vacant(start) = active.entry(name) {
                        start.insert(m.step);
                        fired.push(Diagnostic {
                            name,
                            step: m.step,
                            message,
                            cleared: false,
                        });
                    }
                }
                None => {
                    if let Some(raised) = active.remove(name) {
                        fired.push(Diagnostic {
                            name,
                            step: m.step,
                            message: format!("raised at step {raised}, it no longer holds."),
                            cleared: true,
                        });
                    }
                }
            };
        let mut active = std::mem::take(&mut self.active);
        check("non-finite values", non_finite(m), &mut active);
        if self.gan_loss.is_some() {
            // Only rows with a snapshot carry coverage and diversity; others leave it be.
            if m.get("diversity").is_some() || m.get("modes_covered").is_some() {
                check("mode collapse", self.mode_collapse(m), &mut active);
            }
            check(
                "discriminator overpowering",
                self.overpowering(m),
                &mut active,
            );
            check(
                "vanishing generator gradients",
                self.vanishing(m),
                &mut active,
            );
        } else {
            check("posterior collapse", posterior_collapse(m), &mut active);
        }
        self.active = active;
        fired
    }

    fn mode_collapse(&mut self, m: &Metrics) -> Option<String> {
        if m.step == 0 {
            return None;
        }
        if let Some(modes) = m.get("modes_covered") {
            self.peak_modes = self.peak_modes.max(modes);
            if self.peak_modes >= 2.0 && modes <= self.peak_modes / 2.0 {
                return Some(format!(
                    "The generator now covers {modes:.0} modes after reaching {:.0}: it is collapsing onto a few; try a lower generator learning rate, more discriminator steps or spectral norm.",
                    self.peak_modes
                ));
            }
        }
        let diversity = m.get("diversity")?;
        if diversity < COLLAPSED_DIVERSITY {
            self.low_diversity_rows += 1;
        } else {
            self.low_diversity_rows = 0;
        }
        (self.low_diversity_rows >= 2).then(|| {
            format!(
                "Generated samples spread only {:.0} % as much as the data in two snapshots running: the generator makes nearly the same output for every noise; try a lower learning rate or another loss.",
                diversity * 100.0
            )
        })
    }

    fn overpowering(&mut self, m: &Metrics) -> Option<String> {
        let (real, fake) = (m.get("d_real")?, m.get("d_fake")?);
        let (p_real, p_fake) = match self.gan_loss? {
            GanLoss::Bce => (sigmoid(real), sigmoid(fake)),
            GanLoss::LeastSquares => (real, fake),
            // Hinge and Wasserstein critics are not probabilities.
            GanLoss::Hinge | GanLoss::Wasserstein => return None,
        };
        if p_real > 0.9 && p_fake < 0.1 {
            self.overpowered_rows += 1;
        } else {
            self.overpowered_rows = 0;
        }
        (self.overpowered_rows >= OVERPOWER_ROWS).then(|| {
            format!(
                "The discriminator wins outright (D(x) = {p_real:.2}, D(G(z)) = {p_fake:.2} for {} reports): the generator gets almost no signal; lower the discriminator's learning rate or its steps per generator step.",
                self.overpowered_rows
            )
        })
    }

    fn vanishing(&mut self, m: &Metrics) -> Option<String> {
        let norm = m.get("g_grad_norm")?;
        if m.step == 0 || !norm.is_finite() {
            return None;
        }
        if self.early_grad_norms.len() < 5 {
            self.early_grad_norms.push(norm);
            return None;
        }
        let mut early = self.early_grad_norms.clone();
        early.sort_by(f64::total_cmp);
        let baseline = early[early.len() / 2];
        if norm < baseline * VANISHED_SHARE {
            self.low_grad_rows += 1;
        } else {
            self.low_grad_rows = 0;
        }
        (self.low_grad_rows >= VANISHING_ROWS).then(|| {
            format!(
                "The generator's gradient norm fell to {norm:.2e}, under 1 % of its early {baseline:.2e}: it has stopped learning; a saturated loss does this, so try the non-saturating BCE or LSGAN loss or a weaker discriminator."
            )
        })
    }
}

fn posterior_collapse(m: &Metrics) -> Option<String> {
    let active = m.get("active_units")?;
    (m.step >= POSTERIOR_WARMUP && active < 0.5).then(|| {
        "Every latent dimension's KL is near zero: the decoder ignores the code and produces an average input; lower beta or raise it gradually from 0.".to_string()
    })
}

fn non_finite(m: &Metrics) -> Option<String> {
    let bad: Vec<&str> = m
        .values
        .iter()
        .filter(|(_, v)| !v.is_finite())
        .map(|(k, _)| *k)
        .collect();
    (!bad.is_empty()).then(|| {
        format!(
            "{} became NaN or infinite at step {}: the run is unstable; lower the learning rate.",
            bad.join(", "),
            m.step
        )
    })
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
