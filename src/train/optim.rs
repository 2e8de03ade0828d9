//! Optimizers from the config, and a fused Adam for the CPU.

use crate::config::{OptimizerConfig, OptimizerKind};
use burn::optim::{
    Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
    RmsPropConfig, SgdConfig,
};
use burn::prelude::*;

const EPSILON: f32 = 1e-8;

pub fn build(cfg: &OptimizerConfig) -> ModuleOptimizer {
    match cfg.kind {
        OptimizerKind::Adam => ModuleOptimizer::from(FusedAdam::new(cfg.beta1, cfg.beta2)),
        OptimizerKind::Sgd => SgdConfig::new().init(),
        OptimizerKind::RmsProp => RmsPropConfig::new().init(),
    }
}

/// burn's Adam, arithmetic for arithmetic, but on the CPU one pass over the parameter,
/// its gradient and both moments instead of about thirteen tensor ops (each a pass over
/// memory with its own allocation). On the GPU it is burn's Adam. The state is burn's
/// `AdamState`, so checkpoints read and write the same records either way.
#[derive(Clone)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    reference: Adam,
}

impl FusedAdam {
    pub fn new(beta_1: f32, beta_2: f32) -> Self {
        let reference = AdamConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(EPSILON)
            .build();
        Self {
            beta_1,
            beta_2,
            reference,
        }
    }
}

fn on_cpu(device: &Device) -> bool {
    *device == Device::flex() || *device == Device::flex().autodiff()
}

/// The tensor's values as f32, moved out without a copy when nothing else holds them
/// (and already f32, which the step checks for the parameter).
fn values_of<const D: usize>(t: Tensor<D>) -> TensorData {
    t.into_data().convert::<f32>()
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let device = tensor.device();
        if !on_cpu(&device) || tensor.dtype() != burn::tensor::DType::F32 {
            return self.reference.step(lr, tensor, grad, state);
        }
        let shape = tensor.shape();
        let (time, moments) = match state {
            Some(s) => (
                s.momentum.time + 1,
                Some((s.momentum.moment_1, s.momentum.moment_2)),
            ),
            None => (1, None),
        };
        let (mut param, grad) = (values_of(tensor), values_of(grad));
        let fits = |d: &TensorData| *d.shape() == shape;
        // Moments that do not fit the parameter (a damaged optimizer record) start afresh
        // rather than update part of it.
        let (time, moments) = match moments.map(|(a, b)| (values_of(a), values_of(b))) {
            Some((a, b)) if fits(&a) && fits(&b) && fits(&grad) => (time, Some((a, b))),
            _ => (1, None),
        };
        let (mut m1, mut m2) = moments.unwrap_or_else(|| {
            let zeros = || TensorData::new(vec![0.0f32; shape.num_elements()], shape.clone());
            (zeros(), zeros())
        });
        let bias_correction2_sqrt = (1.0 - self.beta_2.powi(time as i32)).sqrt();
        let combined_factor = bias_correction2_sqrt / (1.0 - self.beta_1.powi(time as i32));
        let epsilon = EPSILON * bias_correction2_sqrt;
        let step = AdamStep {
            b1: self.beta_1,
            b2: self.beta_2,
            combined_factor,
            epsilon,
            lr: lr as f32,
        };
        let slices = (
            param.as_mut_slice::<f32>(),
            grad.as_slice::<f32>(),
            m1.as_mut_slice::<f32>(),
            m2.as_mut_slice::<f32>(),
        );
        if let (Ok(p), Ok(g), Ok(m), Ok(v)) = slices {
            // Large tensors split over the training pool; each element's update is
            // independent, so the bits do not depend on the thread count.
            const CHUNK: usize = 1 << 15;
            if p.len() >= 2 * CHUNK && rayon::current_num_threads() > 1 {
                use rayon::prelude::*;
                p.par_chunks_mut(CHUNK)
                    .zip(g.par_chunks(CHUNK))
                    .zip(m.par_chunks_mut(CHUNK))
                    .zip(v.par_chunks_mut(CHUNK))
                    .for_each(|(((p, g), m), v)| step.apply(p, g, m, v));
            } else {
                step.apply(p, g, m, v);
            }
        }
        let back = |d: TensorData| Tensor::<D>::from_data(d, &device);
        let momentum = AdaptiveMomentumState::new(time, back(m1), back(m2));
        (back(param), Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        Adam::to_device(state, device)
    }
}

/// One Adam update's constants.
struct AdamStep {
    b1: f32,
    b2: f32,
    combined_factor: f32,
    epsilon: f32,
    lr: f32,
}

/// The instruction set the fused CPU Adam step runs on here (for `genlab bench`).
pub fn fused_adam_isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return "avx2";
    }
    "portable (sse2)"
}

impl AdamStep {
    /// Updates parameter and moments in place. Compiled a second time for AVX2 (the
    /// default x86-64 target has only SSE2), chosen at run time; no FMA contraction, so
    /// both give the same bits.
    fn apply(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { self.apply_avx2(p, g, m, v) };
            return;
        }
        self.apply_portable(p, g, m, v);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn apply_avx2(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        self.apply_portable(p, g, m, v);
    }

    #[inline(always)]
    fn apply_portable(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        let (f1, f2) = (1.0 - self.b1, 1.0 - self.b2);
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = *m * self.b1 + g * f1;
            *v = *v * self.b2 + (g * g) * f2;
            let update = (*m * self.combined_factor) / (v.sqrt() + self.epsilon);
            *p -= update * self.lr;
        }
    }
}
