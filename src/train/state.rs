//! A trainer's burn state as bytes (module and optimizer records), and the check for
//! non-finite parameters. Decoding runs under `catch_unwind`: burn's record readers
//! assume well-formed input, and a damaged checkpoint must be an error, not a crash.

use crate::checkpoint::{Blob, TrainerState};
use crate::config::OptimizerConfig;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A named part of a checkpoint.
pub fn blob(name: &str, bytes: Vec<u8>) -> Blob {
    Blob {
        name: name.into(),
        bytes,
    }
}

/// One network's part of a checkpoint: its record and its optimizer's, both under `role`.
pub fn save_part<M: Module>(
    module: &M,
    opt: &ModuleOptimizer,
    role: &str,
    what: &str,
) -> Result<(Blob, Blob), String> {
    Ok((
        blob(role, module_bytes(module, what)?),
        blob(role, optimizer_bytes(opt, what)?),
    ))
}

/// A network with the parameters saved under `role`, and a fresh optimizer of `config`
/// with its saved state. Nothing changes in the trainer until every part has been read.
pub fn load_part<M: Module>(
    saved: &TrainerState,
    role: &str,
    what: &str,
    module: M,
    config: &OptimizerConfig,
) -> Result<(M, ModuleOptimizer), String> {
    let module = load_module(module, saved.module(role)?, what)?;
    let opt = load_optimizer(super::optim::build(config), saved.optimizer(role)?, what)?;
    Ok((module, opt))
}

pub fn module_bytes<M: Module>(module: &M, what: &str) -> Result<Vec<u8>, String> {
    let bytes = module
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| format!("cannot save the {what}: {e}"))?;
    Ok(bytes.to_vec())
}

/// `module` with the parameters of a saved record; shapes must match.
pub fn load_module<M: Module>(module: M, bytes: &[u8], what: &str) -> Result<M, String> {
    let bytes = Bytes::from_bytes_vec(bytes.to_vec());
    let loaded = catch_unwind(AssertUnwindSafe(move || {
        let record = ModuleRecord::from_bytes(bytes)?;
        module.try_load_record(record)
    }));
    match loaded {
        Ok(Ok(m)) => Ok(m),
        Ok(Err(e)) => Err(format!("the saved {what} does not fit this model: {e}")),
        Err(_) => Err(format!("the saved {what} is damaged")),
    }
}

pub fn optimizer_bytes(opt: &ModuleOptimizer, what: &str) -> Result<Vec<u8>, String> {
    let bytes = opt
        .into_bytes()
        .map_err(|e| format!("cannot save the {what} optimizer: {e}"))?;
    Ok(bytes.to_vec())
}

/// A fresh optimizer of the right kind, given the saved state.
pub fn load_optimizer(
    fresh: ModuleOptimizer,
    bytes: &[u8],
    what: &str,
) -> Result<ModuleOptimizer, String> {
    // burn puts the loaded state on its default device; make sure that is the CPU.
    super::device::pin_default_device();
    let bytes = Bytes::from_bytes_vec(bytes.to_vec());
    match catch_unwind(AssertUnwindSafe(move || fresh.from_bytes(bytes))) {
        Ok(Ok(o)) => Ok(o),
        Ok(Err(e)) => Err(format!("the saved {what} optimizer state is damaged: {e}")),
        Err(_) => Err(format!("the saved {what} optimizer state is damaged")),
    }
}

/// The path of the first parameter holding a NaN or an infinity, if any.
pub fn first_non_finite<M: Module>(module: &M) -> Option<String> {
    struct Finder {
        path: Vec<String>,
        found: Option<String>,
    }
    impl ModuleVisitor for Finder {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.found.is_some() {
                return;
            }
            // Any NaN or infinity makes the sum non-finite (as does overflow, itself a divergence).
            let sum = super::tensors::scalar(param.val().detach().sum());
            if !sum.is_finite() {
                self.found = Some(self.path.join("."));
            }
        }
    }
    let mut finder = Finder {
        path: Vec::new(),
        found: None,
    };
    module.visit(&mut finder);
    finder.found
}

/// Draws a module's lazily initialised parameters now (see `device::seeded`).
pub fn materialize<M: Module>(module: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    module.visit(&mut Touch);
}

/// A learning rate read from a checkpoint: finite and positive.
pub fn saved_learning_rate(lr: f64) -> Result<f64, String> {
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(format!(
            "the saved learning rate {lr} is not a positive number"
        ))
    }
}

/// The sum of squares of a module's gradients, as a `[1]` tensor (not read back).
pub fn gradient_square_sum<M: Module>(
    module: &M,
    grads: &burn::optim::GradientsParams,
) -> Option<Tensor<1>> {
    struct Norm<'a> {
        grads: &'a burn::optim::GradientsParams,
        total: Option<Tensor<1>>,
    }
    impl ModuleVisitor for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                let sq = g.powi_scalar(2).sum();
                self.total = Some(match self.total.take() {
                    Some(t) => t + sq,
                    None => sq,
                });
            }
        }
    }
    let mut norm = Norm { grads, total: None };
    module.visit(&mut norm);
    norm.total
}
