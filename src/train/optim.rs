//! Optimizers from the config.

use crate::config::{OptimizerConfig, OptimizerKind};
use burn::optim::{AdamConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};

pub fn build(cfg: &OptimizerConfig) -> ModuleOptimizer {
    match cfg.kind {
        OptimizerKind::Adam => AdamConfig::new()
            .with_beta_1(cfg.beta1)
            .with_beta_2(cfg.beta2)
            .with_epsilon(1e-8)
            .init(),
        OptimizerKind::Sgd => SgdConfig::new().init(),
        OptimizerKind::RmsProp => RmsPropConfig::new().init(),
    }
}
