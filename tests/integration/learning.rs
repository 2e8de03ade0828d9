//! Small real runs that must learn. Budgets are the presets' own; figures are printed
//! (`cargo test -- --nocapture`) for the notes.

use crate::preset;
use genlab::config::Experiment;
use genlab::train::{Event, Metrics, Session};
use std::time::Duration;

/// Trains to the end and returns every metrics row.
fn train(exp: Experiment) -> Vec<Metrics> {
    train_watched(exp).0
}

/// Trains to the end; returns every metrics row and the names of the warnings raised.
fn train_watched(exp: Experiment) -> (Vec<Metrics>, Vec<&'static str>) {
    let s = Session::start(exp).expect("start");
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    loop {
        s.drain_snapshots();
        match s.next_event(Duration::from_secs(600)) {
            Some(Event::Metrics(m)) => rows.push(m),
            Some(Event::Diagnostic(d)) if !d.cleared => warnings.push(d.name),
            Some(Event::Finished { .. }) => return (rows, warnings),
            Some(Event::Failed { step, reason, .. }) => panic!("failed at step {step}: {reason}"),
            Some(_) => {}
            None => panic!("no event for 10 minutes"),
        }
    }
}

fn series(rows: &[Metrics], name: &str) -> Vec<(u64, f64)> {
    rows.iter()
        .filter_map(|m| m.get(name).map(|v| (m.step, v)))
        .collect()
}

#[test]
fn mlp_gan_covers_the_ring() {
    let (rows, warnings) = train_watched(preset("gan_ring.toml"));
    // A healthy run raises no mode-collapse warning.
    assert!(
        !warnings.contains(&"mode collapse"),
        "warnings: {warnings:?}"
    );
    let js = series(&rows, "js_grid");
    println!(
        "ring GAN JS divergence on the grid: {:.3} at step 0 -> {:.3}; warnings: {warnings:?}",
        js.first().map(|p| p.1).unwrap_or(f64::NAN),
        js.last().map(|p| p.1).unwrap_or(f64::NAN)
    );
    assert!(js.last().expect("js").1 < 0.5 * js.first().expect("js").1);
    // A GAN's samples move from snapshot to snapshot (the final one of an otherwise
    // healthy run has read 48 % high quality between readings of 78-88 %), and the CPU
    // kernels' instruction set, chosen per machine, changes the rounding and so the
    // trajectory. So the floor applies to the median of the last five snapshots (the
    // last 250 steps): a collapsed or unlearned generator fails it as surely.
    let modes = last_five_median(&series(&rows, "modes_covered"));
    let quality = last_five_median(&series(&rows, "high_quality"));
    println!(
        "ring GAN, median of the last five snapshots: {modes} of 8 modes, {:.1}% high quality",
        quality * 100.0
    );
    assert!(modes >= 7.0, "only {modes} of 8 modes covered");
    assert!(
        quality >= 0.7,
        "only {:.1}% high-quality samples",
        quality * 100.0
    );
}

/// Median of the last five values of a metric's series.
fn last_five_median(points: &[(u64, f64)]) -> f64 {
    let mut last: Vec<f64> = points.iter().rev().take(5).map(|p| p.1).collect();
    assert!(last.len() == 5, "fewer than five snapshots");
    last.sort_by(f64::total_cmp);
    last[2]
}

/// The floor is half of what the mean image scores: a VAE whose posterior collapsed (it
/// decodes the mean image whatever the input) passes "half of step 0", not this. Its
/// code must also carry information: active units above zero.
#[test]
fn mlp_vae_reconstructs_far_better_than_the_mean_image() {
    let exp = preset("vae_mlp_shapes.toml");
    let mean_only = mean_image_reconstruction(&exp, &images_of(&exp));
    let rows = train(exp);
    let recon = series(&rows, "held_out_reconstruction");
    let first = recon.first().expect("baseline").1;
    let (step, last) = *recon.last().expect("final");
    let active = series(&rows, "active_units")
        .last()
        .expect("active units")
        .1;
    println!("MLP VAE held-out reconstruction: {first:.2} at step 0 -> {last:.2} at step {step} (the mean image: {mean_only:.2}); {active} active units");
    assert!(
        last <= 0.5 * mean_only,
        "held-out reconstruction {last}, the mean image's {mean_only}"
    );
    assert!(
        active >= 1.0,
        "no active latent unit: the posterior collapsed"
    );
}

#[test]
fn dcgan_moves_pixel_statistics_toward_the_data() {
    // 300 of the preset's 2000 steps: about a minute on one core, and enough to show it.
    let mut exp = preset("dcgan_shapes.toml");
    exp.training.steps = 300;
    let rows = train(exp);
    for name in ["loss_d", "loss_g"] {
        assert!(
            series(&rows, name).iter().all(|(_, v)| v.is_finite()),
            "{name} not finite"
        );
    }
    let dist = series(&rows, "pixel_distance");
    let first = dist.first().expect("baseline").1;
    let (step, last) = *dist.last().expect("final");
    println!("DCGAN pixel-statistics distance: {first:.4} at step 0 -> {last:.4} at step {step}");
    assert!(last <= 0.5 * first, "pixel distance {first} -> {last}");
    // The shipped evaluator measures the same progress on its features.
    let fd = series(&rows, "fd");
    let (fd0, fd1) = (
        fd.first().expect("fd at step 0").1,
        fd.last().expect("fd").1,
    );
    let recall = series(&rows, "recall").last().expect("recall").1;
    println!("DCGAN Frechet distance on evaluator features: {fd0:.3} at step 0 -> {fd1:.3} at step {step}; recall {recall:.3}");
    assert!(fd1 < 0.5 * fd0, "Frechet distance {fd0} -> {fd1}");
    // The pixel floor is met by the mean image too; recall is not: the generated images
    // must cover the real ones' variety.
    assert!(recall >= RECALL_FLOOR, "recall {recall}");
}

/// The BCE reconstruction term equals the textbook formula, stays finite for large
/// logits, and its gradient is sigmoid(l) - x (per sample, over the batch).
#[test]
fn bce_reconstruction_matches_the_formula_and_its_gradient() {
    use burn::prelude::*;
    use genlab::config::Reconstruction;
    use genlab::train::losses::reconstruction_loss;
    let device = Device::flex().autodiff();
    let logits = [-60.0f32, -3.0, -0.5, 0.0, 0.7, 4.0, 60.0, 1.5];
    let target = [0.0f32, 1.0, 0.25, 1.0, 0.0, 1.0, 0.0, 0.5];
    let l =
        Tensor::<2>::from_data(TensorData::new(logits.to_vec(), [2, 4]), &device).require_grad();
    let x = Tensor::<2>::from_data(TensorData::new(target.to_vec(), [2, 4]), &device);
    let loss = reconstruction_loss(Reconstruction::Bce, l.clone(), x);
    let softplus = |v: f64| v.max(0.0) + (-v.abs()).exp().ln_1p();
    let expected: f64 = logits
        .iter()
        .zip(target)
        .map(|(&l, x)| softplus(l as f64) - l as f64 * x as f64)
        .sum::<f64>()
        / 2.0;
    let got = loss.clone().into_scalar::<f32>() as f64;
    assert!(
        (got - expected).abs() < 1e-4 * expected.abs().max(1.0),
        "{got} vs {expected}"
    );
    let grads = loss.backward();
    let g = l
        .grad(&grads)
        .expect("gradient")
        .into_data()
        .try_to_vec::<f32>()
        .expect("f32");
    for ((&l, x), g) in logits.iter().zip(target).zip(g) {
        let want = (1.0 / (1.0 + (-(l as f64)).exp()) - x as f64) / 2.0;
        assert!((g as f64 - want).abs() < 1e-5, "d/dl at {l}: {g} vs {want}");
    }
}

/// Recall a generator must reach on the evaluator's features; the mean image, repeated,
/// scores far below it (asserted in `every_outcome_fails_for_models_that_do_not_learn`).
const RECALL_FLOOR: f64 = 0.3;

/// The mean image of a set.
fn mean_image(set: &genlab::data::ImageSet) -> Vec<f32> {
    let (len, n) = (set.image_len(), set.len());
    let mut mean = vec![0.0f32; len];
    for i in 0..n {
        for (m, v) in mean.iter_mut().zip(set.image(i)) {
            *m += v / n as f32;
        }
    }
    mean
}

/// The images of a preset's data.
fn images_of(exp: &Experiment) -> genlab::data::ImageSet {
    match genlab::data::Dataset::load(&exp.data, exp.training.seed).expect("data") {
        genlab::data::Dataset::Images(set) => set,
        _ => panic!("{}: not images", exp.title),
    }
}

/// A quality metric (recall, fd...) of the mean image repeated, as a generator collapsed
/// onto it would be measured.
fn mean_image_quality(exp: &Experiment, set: &genlab::data::ImageSet, metric: &str) -> f64 {
    use genlab::train::quality::{ImageQuality, QUALITY_SAMPLES};
    let device = burn::prelude::Device::flex();
    let quality = ImageQuality::new(
        genlab::modality::images::evaluator::for_data(&exp.data),
        set,
        8,
        0,
        &device,
    )
    .expect("an evaluator for the data");
    let generated: Vec<f32> = mean_image(set)
        .into_iter()
        .cycle()
        .take(QUALITY_SAMPLES * set.image_len())
        .collect();
    quality
        .measure(&generated)
        .iter()
        .find(|(k, _)| *k == metric)
        .expect("measured")
        .1
}

/// The held-out reconstruction of a VAE whose decoder outputs the mean image whatever the
/// input (a collapsed posterior), computed as training computes it.
fn mean_image_reconstruction(exp: &Experiment, set: &genlab::data::ImageSet) -> f64 {
    use burn::prelude::*;
    let genlab::config::ModelConfig::Vae { reconstruction, .. } = &exp.model else {
        panic!("{}: reconstruction of a GAN", exp.title)
    };
    let (len, n) = (set.image_len(), set.len());
    let device = Device::flex();
    let held = (n / 10).min(256);
    // The decoder's output: logits for the cross-entropy, pixels for the squared error.
    let out: Vec<f32> = mean_image(set)
        .iter()
        .map(|&p| match reconstruction {
            genlab::config::Reconstruction::Bce => {
                let p = p.clamp(1e-6, 1.0 - 1e-6);
                (p / (1.0 - p)).ln()
            }
            _ => p,
        })
        .cycle()
        .take(held * len)
        .collect();
    let target = set.pixels[(n - held) * len..].to_vec();
    genlab::train::losses::reconstruction_loss(
        *reconstruction,
        Tensor::<2>::from_data(TensorData::new(out, [held, len]), &device),
        Tensor::<2>::from_data(TensorData::new(target, [held, len]), &device),
    )
    .into_scalar::<f32>() as f64
}

/// Every preset's `[outcome]` must be out of reach of a model that does not learn: a
/// generator collapsed onto one point or onto the mean, a VAE that decodes the mean
/// image from a posterior that ignores the input (KL 0). Each such model's metric is
/// computed with the functions training uses, on the preset's own data, and must fail the
/// preset's bound.
#[test]
fn every_outcome_fails_for_models_that_do_not_learn() {
    use genlab::data::Dataset;
    use genlab::modality;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("presets")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut checked = 0;
    let mut reachable = Vec::new();
    for name in names {
        let Ok(exp) = Experiment::load(&dir.join(&name)) else {
            continue; // needs the user's files (the IDX preset)
        };
        let outcome = exp
            .outcome
            .clone()
            .unwrap_or_else(|| panic!("{name}: no outcome"));
        let data = Dataset::load(&exp.data, exp.training.seed).expect("data");
        // (what the model is, the metric it gets)
        let mut broken: Vec<(&str, f64)> = Vec::new();
        match &data {
            Dataset::Points(set) => {
                let real = set.thinned(1000);
                let n = real.len() as f32;
                let mean = real
                    .iter()
                    .fold([0.0f32; 2], |a, p| [a[0] + p[0] / n, a[1] + p[1] / n]);
                let one_mode = set.modes.first().copied().unwrap_or(real[0]);
                for (what, point) in [
                    ("collapsed to the mean", mean),
                    ("collapsed to one mode", one_mode),
                ] {
                    let generated = vec![point; 500];
                    let value = match outcome.metric.as_str() {
                        "mmd" => {
                            modality::points::quality::mmd(&generated, &real[..real.len().min(500)])
                        }
                        "modes_covered" => {
                            modality::points::quality::mode_coverage(
                                &generated,
                                &set.modes,
                                set.mode_std,
                            )
                            .modes_covered as f64
                        }
                        "js_grid" => {
                            let bounds = genlab::train::bounds_of(&real);
                            let cells = genlab::train::GRID_CELLS;
                            modality::points::quality::grid_divergences(
                                &real, &generated, bounds, cells,
                            )
                            .1
                        }
                        other => panic!("{name}: no broken model for {other}"),
                    };
                    broken.push((what, value));
                }
            }
            Dataset::Images(set) => {
                let len = set.image_len();
                let value = match outcome.metric.as_str() {
                    "pixel_distance" => {
                        let generated: Vec<f32> =
                            mean_image(set).into_iter().cycle().take(64 * len).collect();
                        let real_n = set.len().min(512);
                        modality::images::quality::pixel_stat_distance(
                            &generated,
                            &set.pixels[..real_n * len],
                            len,
                        )
                    }
                    "recall" | "fd" | "precision" => mean_image_quality(&exp, set, &outcome.metric),
                    "held_out_reconstruction" => mean_image_reconstruction(&exp, set),
                    // A posterior that ignores its input matches the prior exactly.
                    "kl" => 0.0,
                    other => panic!("{name}: no broken model for {other}"),
                };
                if exp.is_gan() {
                    // The learning test's recall floor is out of the mean image's reach.
                    let recall = mean_image_quality(&exp, set, "recall");
                    println!("{name}: the mean image: recall = {recall:.4}");
                    assert!(recall < RECALL_FLOOR, "{name}: mean image recall {recall}");
                }
                broken.push(("the mean image / a collapsed posterior", value));
            }
            Dataset::Audio(set) => {
                use genlab::modality::audio::quality::AudioReference;
                let reference = AudioReference::new(set);
                let n = set.len() as f32;
                let mean: Vec<f32> = (0..set.length)
                    .map(|t| (0..set.len()).map(|i| set.clip(i)[t]).sum::<f32>() / n)
                    .collect();
                for (what, clips) in [
                    ("collapsed to one clip", set.clip(0).repeat(128)),
                    ("collapsed to the mean clip", mean.repeat(128)),
                ] {
                    let value = match outcome.metric.as_str() {
                        "pitch_coverage" | "tonal_share" | "spectral_distance" => reference
                            .measure(&clips)
                            .into_iter()
                            .find(|(m, _)| *m == outcome.metric)
                            .map_or(f64::NAN, |(_, v)| v),
                        // That clip as every reconstruction (a posterior that ignores
                        // its input).
                        "held_out_reconstruction" => {
                            let held = set.len().min(256);
                            let decoded = &clips[..set.length];
                            (0..held)
                                .map(|i| {
                                    set.clip(set.len() - 1 - i)
                                        .iter()
                                        .zip(decoded)
                                        .map(|(a, b)| ((a - b) * (a - b)) as f64)
                                        .sum::<f64>()
                                })
                                .sum::<f64>()
                                / held as f64
                        }
                        other => panic!("{name}: no broken model for {other}"),
                    };
                    broken.push((what, value));
                }
            }
            Dataset::Text(set) => {
                use genlab::modality::text::quality::{unigram_entropy, Reference};
                match outcome.metric.as_str() {
                    // A model that learnt which letters are common and nothing of their
                    // order needs the unigram entropy per character.
                    "held_out_bpc" => broken.push((
                        "that knows only letter frequencies",
                        unigram_entropy(&set.items),
                    )),
                    "bigram_js" | "length_js" | "novelty" => {
                        // Collapsed onto one name, and letters drawn by their frequency
                        // (a fixed pseudo-random walk through all the data's letters).
                        let reference = Reference::new(&set.items);
                        let letters: Vec<char> = set.items.concat().chars().collect();
                        let random: Vec<String> = (0..512)
                            .map(|i| {
                                (0..2 + i % 9)
                                    .map(|k| letters[(i * 7919 + k * 104_729) % letters.len()])
                                    .collect()
                            })
                            .collect();
                        for (what, items) in [
                            ("collapsed onto one name", vec![set.items[0].clone(); 512]),
                            ("that draws letters by frequency", random),
                        ] {
                            let value = reference
                                .measure(&items)
                                .into_iter()
                                .find(|(m, _)| *m == outcome.metric)
                                .map_or(f64::NAN, |(_, v)| v);
                            broken.push((what, value));
                        }
                    }
                    other => panic!("{name}: no broken model for {other}"),
                }
            }
        }
        for (what, value) in broken {
            let (ok, words) = outcome.check(value);
            println!(
                "{name}: {what}: {} = {value:.4} ({words}: {})",
                outcome.metric,
                if ok { "PASSES" } else { "fails" }
            );
            if ok {
                reachable.push(format!("{name}: a model {what} meets {words} with {value}"));
            }
        }
        checked += 1;
    }
    assert!(checked >= 13, "{checked}");
    assert!(reachable.is_empty(), "{reachable:#?}");
}

/// PacGAN packing: a discriminator with `pack = 2` judges consecutive rows two at a time,
/// stacked as channels, so each logit depends on both samples of its pair and on no other
/// (conv and MLP discriminators, and the spectrogram head's averaged scores).
#[test]
fn a_packed_discriminator_judges_consecutive_pairs() {
    use genlab::config::{Activation, NetConfig};
    use genlab::model::{Discriminator, DiscriminatorOptions, SampleShape};
    use genlab::train::tensors::{matrix, values};
    let (device, _) =
        genlab::train::session::device_for(genlab::config::Backend::Cpu).expect("cpu");
    let conv = NetConfig::Conv {
        channels: vec![8, 16],
        activation: Activation::LeakyRelu,
        batch_norm: false,
    };
    let mlp = NetConfig::Mlp {
        hidden: vec![16],
        activation: Activation::LeakyRelu,
        batch_norm: false,
    };
    let image = SampleShape::Image {
        channels: 1,
        height: 8,
        width: 8,
    };
    let audio = SampleShape::Audio { length: 256 };
    for (net, shape, spectrogram) in [
        (&conv, image, false),
        (&mlp, image, false),
        (&conv, audio, true),
    ] {
        let options = DiscriminatorOptions {
            spectrogram,
            pack: 2,
            ..Default::default()
        };
        let d = Discriminator::new(net, shape, options, &device).expect("packed discriminator");
        let n = shape.flat_len();
        let mut rows: Vec<f32> = (0..4 * n)
            .map(|i| ((i * 7919) % 101) as f32 / 101.0)
            .collect();
        let before = values(d.forward(matrix(&rows, 4, n, &device)));
        assert_eq!(before.len(), 2, "four samples, two judgements");
        // Change the second sample: the first pair's logit moves, the second's does not.
        for v in &mut rows[n..2 * n] {
            *v = 1.0 - *v;
        }
        let after = values(d.forward(matrix(&rows, 4, n, &device)));
        // Rounding in the batched kernels moves the other pair by ~1e-6 at most.
        let (moved, other) = ((after[0] - before[0]).abs(), (after[1] - before[1]).abs());
        assert!(moved > 1e-4, "{net:?}: pair 1 ignores its 2nd sample");
        assert!(
            other < 1e-5,
            "{net:?}: pair 2 saw pair 1's sample ({other})"
        );
    }
    // Points cannot be packed: the 2-D views score single points.
    assert!(Discriminator::new(
        &mlp,
        SampleShape::Point2,
        DiscriminatorOptions {
            pack: 2,
            ..Default::default()
        },
        &device
    )
    .is_err());
}
