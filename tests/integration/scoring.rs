//! Scoring PNG folders: `genlab score` against the data with its real-versus-real floor,
//! `genlab sample` from a checkpoint, and scripts/score_images.py giving the same numbers
//! from the exported evaluator.

use genlab::cli::{self, TrainRequest};
use genlab::config::DataConfig;
use genlab::data::Dataset;
use genlab::modality::images::scoring::{read_pngs, write_pngs, Scorer, Scores, REFERENCE};
use std::path::Path;

fn shapes() -> DataConfig {
    DataConfig::Shapes { count: 1200 }
}

fn value(scores: &[(&str, f64)], name: &str) -> f64 {
    scores.iter().find(|(n, _)| *n == name).expect(name).1
}

/// Real shapes the reference never saw, and one grey image repeated: the two ends a
/// score must tell apart.
fn fresh_and_constant(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let Dataset::Images(other) = Dataset::load(&shapes(), 77).unwrap() else {
        panic!("shapes are images");
    };
    let len = other.image_len();
    let fresh = dir.join("fresh");
    write_pngs(&fresh, &other.pixels[..300 * len], 1, 28).unwrap();
    let constant = dir.join("constant");
    write_pngs(&constant, &vec![0.3; 300 * len], 1, 28).unwrap();
    (fresh, constant)
}

#[test]
fn a_folder_is_scored_against_the_data_beside_the_real_versus_real_floor() {
    let dir = tempfile::tempdir().unwrap();
    let scorer = Scorer::new(&shapes(), 0).unwrap();
    let (fresh, constant) = fresh_and_constant(dir.path());
    let real = scorer.score(&fresh).unwrap();
    let flat = scorer.score(&constant).unwrap();
    assert_eq!((real.images, flat.images), (300, 300));
    // The floor is the same whatever is scored: two halves of the data.
    assert_eq!(real.floor, flat.floor);
    let floor_fd = value(&real.floor, "fd");
    assert!(floor_fd < 3.0, "real halves far apart: FD {floor_fd}");
    assert!(value(&real.floor, "recall") > 0.8);
    // Unseen real images score near the floor; a constant image far from it.
    assert!(
        value(&real.samples, "fd") < 3.0 * floor_fd + 1.0,
        "{}",
        real.to_text()
    );
    assert!(value(&real.samples, "precision") > 0.8);
    assert!(
        value(&flat.samples, "fd") > 20.0 * floor_fd,
        "{}",
        flat.to_text()
    );
    assert_eq!(value(&flat.samples, "recall"), 0.0);
    assert!(value(&flat.samples, "diversity") < 0.01);
    assert_eq!(value(&real.floor, "classes_covered"), 8.0);
    assert_eq!(value(&real.samples, "classes_covered"), 8.0);
    assert!(value(&flat.samples, "classes_covered") <= 1.0);
    // PNGs come back as they went (8-bit grey).
    let back = read_pngs(&fresh, 1, 28).unwrap();
    assert_eq!(back.len(), 300 * 28 * 28);
    // A folder of the wrong size is named, not misread.
    write_pngs(&dir.path().join("big"), &[0.5; 2 * 32 * 32], 1, 32).unwrap();
    let e = scorer.score(&dir.path().join("big")).unwrap_err();
    assert!(e.contains("32x32") && e.contains("28x28"), "{e}");
    let e = Scorer::new(&DataConfig::Shapes { count: 600 }, 0)
        .err()
        .unwrap();
    assert!(e.contains(&format!("{}", 2 * REFERENCE)), "{e}");
}

#[test]
fn a_checkpoint_writes_its_samples_as_pngs() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let preset = Path::new("presets/vae_mlp_shapes.toml");
    let req = TrainRequest {
        steps: Some(30),
        threads: Some(1),
        ..TrainRequest::quiet(Some(run.clone()))
    };
    cli::train_with(preset, &req).unwrap();
    let out = |name: &str, seed| {
        let out = dir.path().join(name);
        cli::sample(&run, 12, seed, &out).unwrap();
        read_pngs(&out, 1, 28).unwrap()
    };
    let (a, again, other) = (out("a", 1), out("again", 1), out("b", 2));
    assert_eq!(a.len(), 12 * 28 * 28);
    assert_eq!(a, again, "one seed, one set of samples");
    assert_ne!(a, other);
    // Samples differ from one another (not one image twelve times).
    assert_ne!(a[..784], a[784..1568]);
    let e = cli::sample(dir.path(), 4, 1, &dir.path().join("c")).unwrap_err();
    assert!(format!("{e:#}").contains("checkpoint"), "{e:#}");
}

/// `genlab sample` writes every kind of data as its own files: 2-D points as a CSV the
/// points reader takes back, clips as one WAV each at the data's rate.
#[test]
fn a_checkpoint_writes_points_as_csv_and_clips_as_wav() {
    let dir = tempfile::tempdir().unwrap();
    let train = |preset: &str, run: &Path| {
        let req = TrainRequest {
            steps: Some(20),
            threads: Some(1),
            ..TrainRequest::quiet(Some(run.to_path_buf()))
        };
        cli::train_with(Path::new(preset), &req).unwrap();
    };
    let ring = dir.path().join("ring");
    train("presets/gan_ring.toml", &ring);
    let out = dir.path().join("points");
    cli::sample(&ring, 50, 1, &out).unwrap();
    let points = genlab::modality::points::csv::read(&out.join("samples.csv")).unwrap();
    assert_eq!(points.points.len(), 50);
    assert!(points.points.iter().flatten().all(|v| v.is_finite()));
    assert_ne!(points.points[0], points.points[1]);

    let tones = dir.path().join("tones");
    train("presets/wavegan_tones.toml", &tones);
    let out = dir.path().join("clips");
    cli::sample(&tones, 5, 1, &out).unwrap();
    let rate = genlab::modality::audio::tones::SAMPLE_RATE;
    let length = genlab::modality::audio::tones::LENGTH;
    let clips = genlab::modality::audio::wav::read_folder(&out, rate, length, 0).unwrap();
    assert_eq!(clips.len(), 5);
    for name in ["000000.wav", "000004.wav"] {
        let reader = hound::WavReader::open(out.join(name)).unwrap();
        assert_eq!(reader.spec().sample_rate, rate);
        assert_eq!(reader.duration() as usize, length, "{name}");
    }
    // The conditional preset asks for the classes in rotation: five different clips.
    assert_ne!(clips.clip(0), clips.clip(1));
}

/// The Python interpreter with numpy: `$GENLAB_PYTHON`, else `python3`.
fn python_with_numpy() -> Option<String> {
    let python = std::env::var("GENLAB_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&python)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("GENLAB_REQUIRE_PYTHON").is_ok_and(|v| v == "1") {
        panic!("GENLAB_REQUIRE_PYTHON=1 but {python} cannot import numpy");
    }
    ok.then_some(python)
}

/// The numbers of a score table (`Scores::to_text`, or the script's, which prints the
/// same table).
fn table_numbers(text: &str) -> Vec<(String, f64, f64)> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.first()?.to_string(),
                f.get(1)?.parse().ok()?,
                f.get(2)?.parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn the_python_script_scores_like_genlab_from_the_export() {
    let Some(python) = python_with_numpy() else {
        eprintln!("skipped: no python3 with numpy (set GENLAB_PYTHON); .ci/run provides one");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scorer = Scorer::new(&shapes(), 0).unwrap();
    let export = dir.path().join("export");
    scorer.export(&export).unwrap();
    assert_eq!(
        std::fs::read_dir(export.join("real")).unwrap().count(),
        2 * REFERENCE
    );
    let (fresh, constant) = fresh_and_constant(dir.path());
    for folder in [fresh, constant] {
        let ours: Scores = scorer.score(&folder).unwrap();
        let out = std::process::Command::new(&python)
            .arg("scripts/score_images.py")
            .arg("--export")
            .arg(&export)
            .arg("--samples")
            .arg(&folder)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = table_numbers(&text);
        let mine = table_numbers(&ours.to_text());
        assert_eq!(theirs.len(), 6, "{text}");
        for ((name, a, fa), (_, b, fb)) in mine.iter().zip(&theirs) {
            // Four decimals printed; f32 features in GenLab, f64 in the script.
            let near = |x: f64, y: f64| (x - y).abs() <= 2e-3 * x.abs().max(1.0);
            assert!(
                near(*a, *b) && near(*fa, *fb),
                "{name}: GenLab {a} / {fa}, script {b} / {fb}\n{text}"
            );
        }
    }
}
