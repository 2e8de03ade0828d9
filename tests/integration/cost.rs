//! The memory budget: a run that cannot fit is refused with its figures before anything
//! is allocated, never killed halfway; the shipped presets fit with room to spare.

use crate::preset;
use genlab::config::{DataConfig, ModelConfig, NetConfig};
use genlab::cost::{self, estimate};
use genlab::train::{Event, Session};
use std::time::Duration;

const GIB: u64 = 1 << 30;

/// The estimate follows the architecture: the parameter count is exactly what the
/// trainer builds, for MLPs and convolutions, GANs and VAEs.
#[test]
fn the_parameter_estimate_matches_the_built_models() {
    for name in [
        "gan_ring.toml",
        "vae_mlp_shapes.toml",
        "dcgan_shapes.toml",
        "wavegan_tones.toml",
        "vae_conv_shapes.toml",
        "lm_names.toml",
        "vae_names.toml",
        "gan_names.toml",
    ] {
        let exp = preset(name);
        let device = genlab::train::session::device_for(exp.backend)
            .expect("cpu")
            .0;
        let trainer = genlab::train::session::build_trainer(&exp, &device).expect("trainer");
        let e = estimate(&exp).expect("estimate");
        assert_eq!(e.parameters, trainer.parameters() as u64, "{name}");
        assert!(e.total() < GIB, "{name}: {}", e.describe());
        println!("{name}: {} ({})", cost::bytes(e.total()), e.describe());
    }
    // Packing widens the discriminator's first layer: `pack` samples' channels.
    let mut packed = preset("dcgan_shapes.toml");
    if let genlab::config::ModelConfig::Gan { pack, .. } = &mut packed.model {
        *pack = 4;
    }
    let device = genlab::train::session::device_for(packed.backend)
        .expect("cpu")
        .0;
    let trainer = genlab::train::session::build_trainer(&packed, &device).expect("trainer");
    let e = estimate(&packed).expect("estimate");
    assert_eq!(e.parameters, trainer.parameters() as u64, "packed DCGAN");
    let alone = estimate(&preset("dcgan_shapes.toml")).expect("estimate");
    assert!(
        e.flops_per_step < alone.flops_per_step,
        "packed judgements cost less"
    );
}

/// The folder: 30,001 images at size 512 in colour ask for 94 GB. It is refused
/// from the file listing alone (the files here are not even images), with the figures.
#[test]
fn an_image_folder_larger_than_memory_is_refused_before_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..30_001 {
        std::fs::File::create(dir.path().join(format!("{i:05}.png"))).expect("create");
    }
    let mut exp = preset("dcgan_shapes.toml");
    exp.data = DataConfig::ImageFolder {
        path: dir.path().to_owned(),
        size: 512,
        color: true,
    };
    let e = estimate(&exp).expect("estimate");
    assert_eq!(e.samples, 30_001);
    assert!(e.data > 94 * 1_000_000_000, "{}", e.describe());
    let err = cost::check_memory(&exp, Some(24 * GIB)).expect_err("94 GB accepted in 24 GiB");
    assert!(
        err.contains("94.4 GB") && err.contains("25.8 GB is available"),
        "{err}"
    );
    // With the machine's real memory (any machine this runs on has less than 94 GB free).
    if cost::available_memory().is_some_and(|a| a < e.total()) {
        let err = genlab::modality::images::folder::read(dir.path(), 512, true, 0)
            .expect_err("read a folder larger than memory")
            .to_string();
        assert!(err.contains("30001 images of 3x512x512"), "{err}");
        let session = Session::start(exp).expect("start");
        let reason = loop {
            match session.next_event(Duration::from_secs(60)) {
                Some(Event::Failed { reason, .. }) => break reason,
                Some(Event::Started { .. }) => panic!("a run that cannot fit started"),
                Some(_) => {}
                None => panic!("no failure reported"),
            }
        };
        assert!(reason.contains("of memory"), "{reason}");
    }
}

/// Width x depth x batch can ask for more than any machine has: refused with the
/// parameter count, by the session as by the check.
#[test]
fn a_model_larger_than_memory_is_refused_with_its_figures() {
    let mut huge = preset("gan_ring.toml");
    if let ModelConfig::Gan { generator, .. } = &mut huge.model {
        *generator = NetConfig::Mlp {
            hidden: vec![16_384; 32],
            activation: Default::default(),
            batch_norm: false,
        };
    }
    let e = estimate(&huge).expect("estimate");
    assert!(e.parameters > 8_000_000_000, "{}", e.describe());
    let err = cost::check_memory(&huge, Some(64 * GIB)).expect_err("accepted");
    assert!(err.contains("parameters"), "{err}");
    // A batch of 65,536 images through a wide DCGAN: the activations alone do not fit.
    let mut exp = preset("dcgan_shapes.toml");
    exp.training.batch_size = 65_536;
    let err = cost::check_memory(&exp, Some(8 * GIB)).expect_err("accepted");
    assert!(err.contains("at batch 65536"), "{err}");
    let session = Session::start(huge).expect("start");
    loop {
        match session.next_event(Duration::from_secs(60)) {
            Some(Event::Failed { reason, .. }) => {
                assert!(reason.contains("of memory"), "{reason}");
                break;
            }
            Some(Event::Started { .. }) => panic!("a model that cannot fit started"),
            Some(_) => {}
            None => panic!("no failure reported"),
        }
    }
}

/// Compute per step, by hand for the ring GAN: G 8-256-256-2 and D 2-256-256-1 make
/// 68,096 and 66,304 multiply-adds per sample forward; one D update (G forward, D on two
/// batches, backward) and one G update (D forward and input gradients, G backward) make
/// 3 G + 8 D per sample, at batch 256, two FLOPs each.
#[test]
fn flops_per_step_follow_the_layers() {
    let e = estimate(&preset("gan_ring.toml")).expect("estimate");
    assert_eq!(e.flops_per_step, (3 * 68_096 + 8 * 66_304) * 256 * 2);
    assert_eq!(e.flops(), "376.2 MFLOP");
    // A conv net's compute grows with its image area: same layers, twice the side.
    let mut dcgan = preset("dcgan_shapes.toml");
    let small = estimate(&dcgan).expect("estimate").flops_per_step;
    let folder = tempfile::tempdir().expect("tempdir");
    std::fs::File::create(folder.path().join("one.png")).expect("create");
    dcgan.data = DataConfig::ImageFolder {
        path: folder.path().to_owned(),
        size: 56,
        color: false,
    };
    let big = estimate(&dcgan).expect("estimate").flops_per_step;
    let ratio = big as f64 / small as f64;
    assert!((3.0..4.5).contains(&ratio), "{ratio}");
}

/// The speed probe trains the real model briefly: a positive, finite rate.
#[test]
fn the_speed_probe_measures_real_steps() {
    let rate =
        cost::probe_speed(&preset("gan_ring.toml"), Duration::from_millis(300)).expect("probe");
    assert!(rate.is_finite() && rate > 1.0, "{rate}");
    let mut bad = preset("gan_ring.toml");
    bad.training.batch_size = 0;
    assert!(cost::probe_speed(&bad, Duration::from_millis(100)).is_err());
}
