//! The devices a run can train on: the CPU (burn-flex) and the GPU (burn-wgpu), and the
//! wgpu adapters the machine offers, by name and type.

use crate::config::Backend;
use burn::prelude::*;
use burn::tensor::wgpu::wgpu;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

/// One wgpu adapter, as the window lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Adapter {
    pub name: String,
    /// "discrete GPU", "integrated GPU", "software (CPU)", "virtual GPU" or "other".
    pub kind: &'static str,
    /// Vulkan, Metal, DX12, GL...
    pub api: String,
}

impl std::fmt::Display for Adapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.kind, self.api)
    }
}

fn describe(info: &wgpu::AdapterInfo) -> Adapter {
    Adapter {
        name: info.name.clone(),
        kind: match info.device_type {
            wgpu::DeviceType::DiscreteGpu => "discrete GPU",
            wgpu::DeviceType::IntegratedGpu => "integrated GPU",
            wgpu::DeviceType::Cpu => "software (CPU)",
            wgpu::DeviceType::VirtualGpu => "virtual GPU",
            wgpu::DeviceType::Other => "other",
        },
        api: format!("{:?}", info.backend),
    }
}

/// Every adapter wgpu can see (a few milliseconds; the window asks once, off its thread).
pub fn list_adapters() -> Vec<Adapter> {
    let instance = wgpu::Instance::default();
    let adapters = pollster_block(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.iter().map(|a| describe(&a.get_info())).collect()
}

/// The adapter burn-wgpu's default selection takes: wgpu's high-performance choice.
fn preferred_adapter() -> Option<Adapter> {
    let instance = wgpu::Instance::default();
    let adapter = pollster_block(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .ok()?;
    Some(describe(&adapter.get_info()))
}

fn pollster_block<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

/// The GPU device, initialised once per process (burn's wgpu runtime cannot be
/// re-initialised, and a device per run would leak one each time), with its adapter.
fn gpu() -> &'static Result<(Device, Adapter), String> {
    static GPU: OnceLock<Result<(Device, Adapter), String>> = OnceLock::new();
    GPU.get_or_init(|| {
        let adapter = preferred_adapter().ok_or_else(|| {
            "no GPU adapter found (wgpu sees no Vulkan, Metal or DX12 device)".to_string()
        })?;
        // The lazy device joins burn's wgpu runtime whoever started it first; the first
        // kernel below starts it if nobody has. Driver failures surface as panics in some
        // wgpu paths, so they are caught and stay an error.
        let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
        // A first tiny computation proves the adapter really runs kernels.
        let works = catch_unwind(AssertUnwindSafe(|| {
            let t = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device);
            super::tensors::scalar(t.sum())
        }));
        match works {
            Ok(v) if (v - 6.0).abs() < 1e-6 => Ok((device, adapter)),
            Ok(v) => Err(format!("the GPU adapter {adapter} computed 1+2+3 = {v}")),
            Err(_) => Err(format!(
                "the GPU adapter {adapter} crashed on its first kernel"
            )),
        }
    })
}

/// Makes burn's `Device::default()` the CPU backend unless the user chose otherwise with
/// `BURN_DEVICE`. With the wgpu feature built in, burn would default to the GPU, and burn
/// puts loaded optimizer state on the default device: a CPU run resumed on a machine
/// without a GPU would then fail. Called before any training thread reads it.
pub fn pin_default_device() {
    static PINNED: OnceLock<()> = OnceLock::new();
    PINNED.get_or_init(|| {
        if std::env::var_os("BURN_DEVICE").is_none() {
            std::env::set_var("BURN_DEVICE", "flex");
        }
    });
}

/// The GPU's adapter, or why there is none.
pub fn gpu_adapter() -> Result<Adapter, String> {
    gpu().as_ref().map(|(_, a)| a.clone()).map_err(Clone::clone)
}

/// The autodiff device a backend choice names, and words for the status bar; an error
/// (never a panic) when the GPU is missing or broken. The CPU is burn-flex: burn-ndarray
/// (deprecated in burn 0.22) runs transposed convolutions element by element.
pub fn device_for(backend: Backend) -> Result<(Device, String), String> {
    pin_default_device();
    match backend {
        Backend::Cpu => Ok((Device::flex().autodiff(), backend.label().to_string())),
        Backend::Gpu => match gpu() {
            Ok((device, adapter)) => Ok((device.clone().autodiff(), format!("GPU: {adapter}"))),
            Err(e) => Err(format!("{e}; train on the CPU instead (backend = \"cpu\")")),
        },
    }
}

/// Runs `build` (model initialisation) with burn's random generator seeded to `seed`.
/// That generator is one per backend, shared by the whole process: two models built at
/// once (a run starting while another stops, the evaluator job, tests in parallel) would
/// interleave their draws and start from parameters their seeds do not give. So every
/// seeded build holds one lock.
pub fn seeded<T>(device: &Device, seed: u64, build: impl FnOnce() -> T) -> T {
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _only_builder = INIT.lock().unwrap_or_else(|p| p.into_inner());
    device.seed(seed);
    build()
}
