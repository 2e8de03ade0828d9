//! Quality metrics with known answers, the evaluator's accuracy, and the diagnostics.

use genlab::config::{DataConfig, ToyShape};
use genlab::data::{Dataset, SeededRng};
use genlab::eval::diagnostics::Monitor;
use genlab::eval::features;
use genlab::modality::points::quality as points;
use genlab::train::Metrics;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

fn ring() -> genlab::data::PointSet {
    match Dataset::load(
        &DataConfig::Toy {
            shape: ToyShape::Ring,
            noise: 0.02,
        },
        3,
    ) {
        Ok(Dataset::Points(p)) => p,
        _ => panic!("ring"),
    }
}

/// 2000 points around the first `k` of the ring's modes, evenly shared.
fn on_modes(set: &genlab::data::PointSet, k: usize, seed: u64) -> Vec<[f32; 2]> {
    let mut rng = SeededRng::seed_from_u64(seed);
    let noise = Normal::new(0.0f32, set.mode_std).expect("normal");
    (0..2000)
        .map(|i| {
            let m = set.modes[i % k];
            [m[0] + noise.sample(&mut rng), m[1] + noise.sample(&mut rng)]
        })
        .collect()
}

#[test]
fn two_d_metrics_count_the_modes_a_set_has() {
    let set = ring();
    let real: Vec<[f32; 2]> = set.points.iter().step_by(10).copied().collect();
    let bounds = [-2.6f32, 2.6, -2.6, 2.6];
    let mut last_js = 0.0;
    let mut last_kl = 0.0;
    for k in [8, 6, 4, 2, 1] {
        let gen = on_modes(&set, k, k as u64);
        let cov = points::mode_coverage(&gen, &set.modes, set.mode_std);
        assert_eq!(cov.modes_covered, k);
        assert!(cov.high_quality > 0.98, "{}", cov.high_quality);
        let (kl, js) = points::grid_divergences(&real, &gen, bounds, 20);
        println!(
            "{k} of 8 modes: KL {kl:.3}, JS {js:.3}, MMD {:.4}",
            points::mmd(&gen[..500], &real[..500])
        );
        assert!(
            js > last_js && kl > last_kl,
            "fewer modes must diverge more: {k} modes, JS {js}, KL {kl}"
        );
        assert!(js <= std::f64::consts::LN_2 + 1e-9);
        last_js = js;
        last_kl = kl;
    }
    // All eight modes: close to the data itself.
    let (_, js8) = points::grid_divergences(&real, &on_modes(&set, 8, 99), bounds, 20);
    assert!(js8 < 0.05, "JS with every mode {js8}");
}

fn gaussian_features(n: usize, dim: usize, shift: f32, scale: f32, seed: u64) -> Vec<f32> {
    let mut rng = SeededRng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).expect("normal");
    (0..n * dim)
        .map(|i| shift + scale * normal.sample(&mut rng) * (1.0 + (i % dim) as f32 / dim as f32))
        .collect()
}

#[test]
fn frechet_distance_is_zero_on_itself_and_grows_with_noise() {
    let dim = 64;
    let a = gaussian_features(800, dim, 0.0, 1.0, 1);
    let itself = features::frechet_distance(&a, &a, dim);
    assert!(itself.abs() < 1e-6, "FD of a set with itself: {itself}");
    let mut last = itself;
    for sigma in [0.1f32, 0.3, 0.6, 1.0] {
        let mut rng = SeededRng::seed_from_u64(7);
        let normal = Normal::new(0.0f32, sigma).expect("normal");
        let noisy: Vec<f32> = a.iter().map(|v| v + normal.sample(&mut rng)).collect();
        let fd = features::frechet_distance(&a, &noisy, dim);
        println!("FD with noise sigma {sigma}: {fd:.3}");
        assert!(fd > last, "FD must grow with noise: {fd} after {last}");
        last = fd;
    }
}

#[test]
fn kid_is_unbiased_on_equal_distributions() {
    let dim = 64;
    let draws: Vec<f64> = (0..8)
        .map(|i| {
            let a = gaussian_features(200, dim, 0.0, 1.0, 100 + i);
            let b = gaussian_features(200, dim, 0.0, 1.0, 200 + i);
            features::kernel_distance(&a, &b, dim)
        })
        .collect();
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    let shifted = features::kernel_distance(
        &gaussian_features(200, dim, 0.0, 1.0, 1),
        &gaussian_features(200, dim, 0.5, 1.0, 2),
        dim,
    );
    println!("KID equal distributions: mean {mean:.5} over {draws:?}; shifted {shifted:.4}");
    // Unbiased: the draws scatter around 0 (some below it), far under a real difference.
    assert!(
        draws.iter().any(|d| *d < 0.0),
        "a biased estimator never goes below 0: {draws:?}"
    );
    assert!(
        mean.abs() < 0.02 * shifted,
        "mean {mean} vs shifted {shifted}"
    );
}

#[test]
fn precision_and_recall_on_disjoint_and_identical_sets() {
    let dim = 8;
    let a = gaussian_features(300, dim, 0.0, 1.0, 1);
    let far = gaussian_features(300, dim, 100.0, 1.0, 2);
    assert_eq!(features::precision_recall(&a, &a, dim, 3), (1.0, 1.0));
    assert_eq!(features::precision_recall(&a, &far, dim, 3), (0.0, 0.0));
    // Half the generated set on the data, half far away: precision about a half, recall full.
    let half: Vec<f32> = a[..150 * dim]
        .iter()
        .chain(&far[..150 * dim])
        .copied()
        .collect();
    let (p, r) = features::precision_recall(&a, &half, dim, 3);
    assert!(
        (p - 0.5).abs() < 0.01 && r > 0.45,
        "precision {p}, recall {r}"
    );
}

#[test]
fn the_shipped_evaluator_classifies_unseen_shapes() {
    let data = DataConfig::Shapes { count: 2000 };
    let saved = genlab::modality::images::evaluator::for_data(&data).expect("a shipped evaluator");
    // Another seed than the one it was trained on: images it has never seen.
    let Ok(Dataset::Images(set)) = Dataset::load(&data, 12345) else {
        panic!("shapes")
    };
    let device = genlab::train::session::device_for(genlab::config::Backend::Cpu)
        .expect("cpu")
        .0
        .inner();
    let model = saved.model(&device).expect("loads");
    let labels = set.labels.clone().expect("labels");
    let rows = genlab::eval::evaluator::Rows {
        values: &set.pixels,
        len: set.image_len(),
        labels: &labels,
        classes: saved.classes,
    };
    let acc = genlab::eval::evaluator::accuracy(&model, &rows, &device);
    println!(
        "shipped evaluator: {:.1} % on 2000 unseen shapes ({:.1} % on its own held-out split)",
        acc * 100.0,
        saved.held_out_accuracy * 100.0
    );
    assert!(acc > 0.8, "accuracy {acc}");
}

fn row(step: u64, values: Vec<(&'static str, f64)>) -> Metrics {
    Metrics {
        step,
        elapsed: 0.0,
        values,
    }
}

fn gan_monitor() -> Monitor {
    Monitor::for_experiment(&crate::preset("gan_ring.toml"))
}

#[test]
fn a_collapsed_generator_fires_mode_collapse() {
    let set = ring();
    let real: Vec<[f32; 2]> = set.points.iter().step_by(10).copied().collect();
    let mut monitor = gan_monitor();
    // A healthy generator first (all 8 modes), then one that outputs a constant.
    let mut names = Vec::new();
    for (step, gen) in [
        (100, on_modes(&set, 8, 1)),
        (200, vec![[0.3f32, -0.2]; 2000]),
        (300, vec![[0.3f32, -0.2]; 2000]),
    ] {
        let cov = points::mode_coverage(&gen, &set.modes, set.mode_std);
        let m = row(
            step,
            vec![
                ("modes_covered", cov.modes_covered as f64),
                ("diversity", points::diversity(&real, &gen)),
            ],
        );
        names.extend(
            monitor
                .observe(&m)
                .into_iter()
                .map(|d| (d.step, d.name, d.message)),
        );
    }
    assert_eq!(names.len(), 1, "fires once: {names:?}");
    assert_eq!((names[0].0, names[0].1), (200, "mode collapse"));
    assert!(names[0].2.contains("modes"), "{}", names[0].2);
    // The generator recovers: the warning says once that it cleared, and when it was raised.
    let healthy = on_modes(&set, 8, 1);
    let cov = points::mode_coverage(&healthy, &set.modes, set.mode_std);
    let recovered = row(
        400,
        vec![
            ("modes_covered", cov.modes_covered as f64),
            ("diversity", points::diversity(&real, &healthy)),
        ],
    );
    let cleared = monitor.observe(&recovered);
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert!(cleared[0].cleared && cleared[0].name == "mode collapse");
    assert!(
        cleared[0].message.contains("step 200"),
        "{}",
        cleared[0].message
    );
    assert!(monitor
        .observe(&row(500, recovered.values.clone()))
        .is_empty());
    // A constant generator from the start (never any coverage peak): its diversity says it.
    let mut monitor = gan_monitor();
    let constant = vec![[1.0f32, 1.0]; 2000];
    let d = points::diversity(&real, &constant);
    assert!(d < 1e-6);
    let fired: Vec<_> = (1..=2)
        .flat_map(|i| {
            monitor.observe(&row(
                i * 100,
                vec![("diversity", d), ("modes_covered", 0.0)],
            ))
        })
        .collect();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].name, "mode collapse");
}

#[test]
fn an_overpowering_discriminator_and_vanishing_gradients_are_named() {
    let mut monitor = gan_monitor();
    let mut fired = Vec::new();
    for step in 1..=40u64 {
        let norm = if step <= 5 { 1.0 } else { 1e-5 };
        fired.extend(monitor.observe(&row(
            step * 10,
            vec![("d_real", 6.0), ("d_fake", -6.0), ("g_grad_norm", norm)],
        )));
    }
    let names: Vec<_> = fired.iter().map(|d| d.name).collect();
    assert_eq!(
        names,
        vec![
            "vanishing generator gradients",
            "discriminator overpowering"
        ]
    );
    // A balanced game raises nothing.
    let mut monitor = gan_monitor();
    for step in 1..=40u64 {
        let quiet = monitor.observe(&row(
            step * 10,
            vec![("d_real", 0.4), ("d_fake", -0.3), ("g_grad_norm", 0.8)],
        ));
        assert!(quiet.is_empty(), "{quiet:?}");
    }
}

#[test]
fn posterior_collapse_and_non_finite_values_are_named() {
    let mut monitor = Monitor::for_experiment(&crate::preset("vae_mlp_shapes.toml"));
    assert!(
        monitor
            .observe(&row(100, vec![("active_units", 0.0)]))
            .is_empty(),
        "too early to judge"
    );
    let fired = monitor.observe(&row(300, vec![("active_units", 0.0)]));
    assert_eq!(fired[0].name, "posterior collapse");
    let fired = monitor.observe(&row(
        310,
        vec![("active_units", 4.0), ("held_out_elbo", f64::NAN)],
    ));
    let (raised, cleared): (Vec<_>, Vec<_>) = fired.iter().partition(|d| !d.cleared);
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].name, "non-finite values");
    assert!(raised[0].message.contains("held_out_elbo"));
    // Four active units again: the posterior collapse has cleared.
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0].name, "posterior collapse");
}

#[test]
fn vae_snapshots_carry_traversal_interpolation_and_kl_per_dim() {
    let mut exp = crate::preset("vae_mlp_shapes.toml");
    exp.training.steps = 20;
    exp.training.samples_every = 20;
    let s = genlab::train::Session::start(exp).expect("start");
    s.send(genlab::train::Control::InterpolateBetween(3, 7));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut last = None;
    let mut rows = Vec::new();
    while std::time::Instant::now() < deadline {
        last = s.drain_snapshots().pop().or(last);
        match s.next_event(std::time::Duration::from_millis(50)) {
            Some(genlab::train::Event::Metrics(m)) => rows.push(m),
            Some(genlab::train::Event::Finished { .. }) => break,
            _ => {}
        }
    }
    last = s.drain_snapshots().pop().or(last);
    let snap = last.expect("a snapshot");
    assert_eq!(snap.step, 20);
    let genlab::train::Samples::Images {
        traversal,
        interpolation,
        kl_per_dim,
        ..
    } = snap.samples
    else {
        panic!("images")
    };
    let kl = kl_per_dim.expect("KL per dimension");
    assert_eq!(kl.len(), 20);
    let t = traversal.expect("traversal");
    // 8 rows of 9 cells of 28 px, 1-px gaps.
    assert_eq!((t.width, t.height), (9 * 29 + 1, 8 * 29 + 1));
    let i = interpolation.expect("interpolation");
    assert_eq!((i.width, i.height), (10 * 29 + 1, 29 + 1));
    // Image metrics on the shipped evaluator, for a VAE too.
    let last_row = rows
        .iter()
        .rev()
        .find(|m| m.get("fd").is_some())
        .expect("fd");
    assert!(last_row.get("fd").is_some_and(f64::is_finite));
}

#[test]
fn classes_covered_counts_the_classes_generated_images_fall_in() {
    use genlab::train::quality::{classes_covered, ImageQuality};
    let data = DataConfig::Shapes { count: 1200 };
    let Ok(Dataset::Images(set)) = Dataset::load(&data, 3) else {
        panic!("shapes")
    };
    let device = genlab::train::session::device_for(genlab::config::Backend::Cpu)
        .expect("cpu")
        .0;
    let saved = genlab::modality::images::evaluator::for_data(&data);
    let q = ImageQuality::new(saved, &set, 8, 0, &device).expect("an evaluator");
    let len = set.image_len();
    let classes = |pixels: &[f32]| {
        let v = q.measure(pixels);
        v.iter()
            .find(|(k, _)| *k == "classes_covered")
            .expect("reported")
            .1
    };
    let classes_n = genlab::modality::images::shapes::CLASSES.len() as f64;
    // Unseen real images cover every class; one image repeated covers one; the mean
    // image at most one.
    let real = &set.pixels[600 * len..1112 * len];
    assert_eq!(classes(real), classes_n);
    let one: Vec<f32> = real[..len].repeat(512);
    assert_eq!(classes(&one), 1.0);
    let mut mean = vec![0.0f32; len];
    for img in real.chunks_exact(len) {
        mean.iter_mut().zip(img).for_each(|(m, v)| *m += v / 512.0);
    }
    assert!(classes(&mean.repeat(512)) <= 1.0);
    // Half the classes, evenly: half covered. Stray predictions below a quarter of a
    // fair share do not count.
    let mut predicted: Vec<usize> = (0..400).map(|i| i % 4).collect();
    predicted.extend([5, 6, 7]);
    assert_eq!(classes_covered(&predicted, 8), 4);
}
