//! Fuzzing every reader with proptest: valid seed files, mutated (bit flips, overwrites with
//! boundary values, inserted tokens, cuts, duplicated spans), and plain noise. Each input
//! must give a value or an error that names the file; a panic fails the test.
//!
//! By default each target runs a few hundred cases (CI). For a long run of one target:
//!   GENLAB_FUZZ_SECS=600 cargo test --test integration fuzz::checkpoints -- --nocapture
//! which prints the executions it made.

use crate::preset;
use genlab::checkpoint::Checkpoint;
use genlab::config::Experiment;
use genlab::modality::images::{folder, idx};
use genlab::modality::points::csv as csv_points;
use genlab::train::{Event, Session};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The name every fuzzed input goes by; every error must contain it.
const FILE: &str = "fuzz-input.bin";

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Set(usize, u8),
    /// Overwrite 4 bytes with a boundary value (sizes and counts in headers).
    Word(usize, u32),
    Insert(usize, Vec<u8>),
    Token(usize, usize),
    Remove(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let word = prop_oneof![
        Just(0u32),
        Just(1),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        Just(u32::MAX),
        Just(0xffff_fff0),
        any::<u32>()
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Edit::Flip(p, 1 << b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, v)| Edit::Set(p, v)),
        (any::<usize>(), word).prop_map(|(p, w)| Edit::Word(p, w)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(p, v)| Edit::Insert(p, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(p, t)| Edit::Token(p, t)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Edit::Remove(p, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..64, any::<usize>()).prop_map(|(a, n, b)| Edit::Duplicate(a, n, b)),
    ]
}

/// Text that readers treat specially, inserted whole.
const TOKENS: &[&str] = &[
    "=",
    "[",
    "]",
    "[[",
    "\"",
    "'",
    ",",
    "\n",
    "#",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e400",
    "18446744073709551616",
    "4294967295",
    "true",
    "{}",
    "[data]",
    "[model]",
    "kind",
    "family",
    "\"gan\"",
    "\"vae\"",
    "\"conv\"",
    "\"mlp\"",
    "hidden",
    "steps",
    "batch_size",
    "lr",
    "\u{feff}",
    "\u{0}",
    "\r\n",
    "é",
];

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let at = |p: usize, len: usize| if len == 0 { 0 } else { p % len };
        match e {
            Edit::Flip(p, m) if !b.is_empty() => {
                let i = at(*p, b.len());
                b[i] ^= m;
            }
            Edit::Set(p, v) if !b.is_empty() => {
                let i = at(*p, b.len());
                b[i] = *v;
            }
            Edit::Word(p, w) if b.len() >= 4 => {
                let i = at(*p, b.len() - 3);
                let bytes = if p % 2 == 0 {
                    w.to_be_bytes()
                } else {
                    w.to_le_bytes()
                };
                b[i..i + 4].copy_from_slice(&bytes);
            }
            Edit::Insert(p, v) => {
                let i = at(*p, b.len() + 1);
                b.splice(i..i, v.iter().copied());
            }
            Edit::Token(p, t) => {
                let i = at(*p, b.len() + 1);
                b.splice(i..i, TOKENS[t % TOKENS.len()].bytes());
            }
            Edit::Remove(p, n) if !b.is_empty() => {
                let i = at(*p, b.len());
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
            Edit::Truncate(p) => {
                let n = at(*p, b.len() + 1);
                b.truncate(n);
            }
            Edit::Duplicate(a, n, dst) if !b.is_empty() => {
                let i = at(*a, b.len());
                let span: Vec<u8> = b[i..(i + n).min(b.len())].to_vec();
                let j = at(*dst, b.len() + 1);
                b.splice(j..j, span);
            }
            _ => {}
        }
    }
    b
}

fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..600),
        8 => (0..n, proptest::collection::vec(edit(), 1..8))
            .prop_map(move |(i, edits)| apply(&seeds[i], &edits)),
    ]
}

/// Runs `target` on mutated inputs: a few hundred cases, or for $GENLAB_FUZZ_SECS seconds.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, target: impl Fn(&[u8]) -> Result<(), String>) {
    // Every seed must itself read back: otherwise the mutations start from nothing.
    for (i, s) in seeds.iter().enumerate() {
        if let Err(e) = target(s) {
            panic!("{name}: seed {i} does not read: {e}");
        }
    }
    fuzz_values(name, 256, inputs(seeds), FILE, |bytes: &Vec<u8>| {
        target(bytes)
    });
}

/// Runs `target` on values drawn from `strategy`, `cases` per round: one round, or rounds
/// for $GENLAB_FUZZ_SECS seconds. An error must contain `names`; a panic fails the test.
fn fuzz_values<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    names: &str,
    target: impl Fn(&S::Value) -> Result<(), String>,
) {
    let budget = std::env::var("GENLAB_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let started = Instant::now();
    let execs = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    for round in 0u64.. {
        let config = Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        };
        let seed = [name.as_bytes(), &round.to_le_bytes()].concat();
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &blake_like(&seed));
        let mut runner = TestRunner::new_with_rng(config, rng);
        let result = runner.run(&strategy, |value| {
            execs.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = target(&value) {
                if std::env::var_os("GENLAB_FUZZ_VERBOSE").is_some() {
                    eprintln!("{e}");
                }
                errors.fetch_add(1, Ordering::Relaxed);
                prop_assert!(e.contains(names), "the error does not name {names}: {e}");
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("fuzz {name}, round {round}: {e}");
        }
        match budget {
            Some(secs) if started.elapsed().as_secs() < secs => continue,
            _ => break,
        }
    }
    println!(
        "fuzz {name}: {} executions ({} rejected with an error) in {:.0} s, 0 panics",
        execs.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
}

/// A 32-byte seed from any bytes (ChaCha wants exactly 32).
fn blake_like(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        out[i % 32] = out[i % 32].wrapping_mul(31).wrapping_add(*b);
    }
    out
}

#[test]
fn presets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("presets")
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path()).ok())
        // Presets that name the user's own files are not valid on their own.
        .filter(|b| Experiment::parse(&String::from_utf8_lossy(b), Path::new(FILE)).is_ok())
        .collect();
    seeds.sort();
    fuzz("presets", seeds, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        Experiment::parse(&text, Path::new(FILE))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

#[test]
fn wav_files() {
    let tone: Vec<f32> = (0..400).map(|i| (i as f32 * 0.3).sin() * 0.5).collect();
    let seeds = vec![
        crate::audio::wav_bytes(&tone, 8000, 1, 16, false),
        crate::audio::wav_bytes(&tone, 44_100, 2, 24, false),
        crate::audio::wav_bytes(&tone, 16_000, 1, 32, true),
        crate::audio::wav_bytes(&tone, 11_025, 2, 8, false),
    ];
    fuzz("wav_files", seeds, |bytes| {
        let clip =
            genlab::modality::audio::wav::decode(Cursor::new(bytes), Path::new(FILE), 8000, 256)
                .map_err(|e| e.to_string())?;
        if clip.len() != 256 || clip.iter().any(|v| !v.is_finite() || v.abs() > 1.0) {
            return Err(format!("{FILE}: a clip of the wrong length or range"));
        }
        Ok(())
    });
}

#[test]
fn csv_points() {
    let seeds = vec![
        b"x,y\n0.5,1.5\n-2,3e-2\n4,5\n".to_vec(),
        b"# comment\n1 , 2\n3,4,extra\n\n5,6\n".to_vec(),
    ];
    fuzz("csv_points", seeds, |bytes| {
        csv_points::parse(Cursor::new(bytes), Path::new(FILE))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

fn idx_bytes(images: bool, dims: &[u32], gzip: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f");
    let n: u32 = dims.iter().product();
    let data: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
    idx::write(&path, images, dims, &data, gzip).expect("write");
    std::fs::read(&path).expect("read")
}

#[test]
fn idx_files() {
    let seeds = vec![
        idx_bytes(true, &[3, 4, 4], false),
        idx_bytes(true, &[2, 5, 3], true),
        idx_bytes(false, &[7], false),
        idx_bytes(false, &[6], true),
    ];
    fuzz("idx", seeds, |bytes| {
        // The magic decides which reader the input is for (as a user's two files would).
        let labels =
            bytes.get(3) == Some(&0x01) || bytes.first() == Some(&0x1f) && bytes.len() % 2 == 0;
        let (magic, rank) = if labels {
            (idx::LABELS_MAGIC, 1)
        } else {
            (idx::IMAGES_MAGIC, 3)
        };
        idx::parse_maybe_gzip(Cursor::new(bytes), Path::new(FILE), magic, rank)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

fn encoded_image(format: image::ImageFormat, color: bool) -> Vec<u8> {
    let img = image::RgbImage::from_fn(9, 7, |x, y| {
        image::Rgb([(x * 28) as u8, (y * 36) as u8, 128])
    });
    let mut out = Cursor::new(Vec::new());
    if color {
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, format)
            .expect("encode");
    } else {
        image::DynamicImage::ImageRgb8(img)
            .to_luma8()
            .write_to(&mut out, format)
            .expect("encode");
    }
    out.into_inner()
}

#[test]
fn image_files() {
    use image::ImageFormat::{Gif, Jpeg, Png};
    let seeds = vec![
        encoded_image(Png, true),
        encoded_image(Png, false),
        encoded_image(Jpeg, true),
        encoded_image(Gif, true),
    ];
    fuzz("images", seeds, |bytes| {
        let mut out = Vec::new();
        let color = bytes.len() % 2 == 0;
        folder::decode(Cursor::new(bytes), Path::new(FILE), 8, color, &mut out)
            .map_err(|e| e.to_string())?;
        if out.len() != 8 * 8 * if color { 3 } else { 1 }
            || out.iter().any(|v| !(0.0..=1.0).contains(v))
        {
            return Err(format!(
                "{FILE}: decoded to {} values out of range",
                out.len()
            ));
        }
        Ok(())
    });
}

/// A checkpoint file whose header is rebuilt around `payload` (so mutations of the data
/// get past the checksum and reach the decoders behind it).
fn rewrap(payload: &[u8]) -> Vec<u8> {
    let mut b = b"GENLABCK".to_vec();
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    b.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    b.extend_from_slice(payload);
    b
}

/// A small spectral-norm GAN, its trainer, and one of its checkpoint files: a checkpoint
/// with every kind of part.
fn small_gan_checkpoint() -> (std::sync::Mutex<Box<dyn genlab::train::Trainer>>, Vec<u8>) {
    // A small spectral-norm GAN: its checkpoint has every kind of part.
    let mut exp = preset("gan_ring_spectral.toml");
    if let genlab::config::ModelConfig::Gan {
        generator,
        discriminator,
        ..
    } = &mut exp.model
    {
        for net in [generator, discriminator] {
            if let genlab::config::NetConfig::Mlp { hidden, .. } = net {
                *hidden = vec![8, 8];
            }
        }
    }
    exp.training.steps = 2;
    exp.training.batch_size = 8;
    let session = Session::start(exp.clone()).expect("start");
    let mut file = None;
    while let Some(e) = session.next_event(std::time::Duration::from_secs(60)) {
        match e {
            Event::Checkpoint(c) => file = Some(c.bytes.to_vec()),
            Event::Finished { .. } | Event::Failed { .. } => break,
            _ => {}
        }
    }
    let device = genlab::train::session::device_for(exp.backend)
        .expect("cpu")
        .0;
    let trainer = std::sync::Mutex::new(
        genlab::train::session::build_trainer(&exp, &device).expect("trainer"),
    );
    (trainer, file.expect("a checkpoint"))
}

/// Loads a decoded checkpoint into the trainer and takes one step: a checkpoint that loads
/// must also train (finite or not, but without a panic).
fn load_and_step(
    trainer: &std::sync::Mutex<Box<dyn genlab::train::Trainer>>,
    ckpt: &Checkpoint,
) -> Result<(), String> {
    let _ = ckpt.experiment();
    let mut trainer = trainer.lock().unwrap_or_else(|p| p.into_inner());
    trainer
        .load_state(&ckpt.trainer)
        .map_err(|e| format!("{FILE}: {e}"))?;
    trainer.step();
    Ok(())
}

#[test]
fn checkpoints() {
    let (trainer, file) = small_gan_checkpoint();
    let payload = file[24..].to_vec();
    // Seeds: the file as is, and its payload (re-wrapped after mutation).
    let seeds = vec![file.clone(), payload];
    fuzz("checkpoints", seeds, |bytes| {
        let whole = if bytes.starts_with(b"GENLABCK") {
            bytes.to_vec()
        } else {
            rewrap(bytes)
        };
        let ckpt = Checkpoint::decode(&whole, Path::new(FILE)).map_err(|e| e.to_string())?;
        load_and_step(&trainer, &ckpt)
    });
}

/// burn's records inside a checkpoint (module parameters, Adam moments), mutated directly:
/// input = [which record] ++ record bytes.
#[test]
fn checkpoint_records() {
    let (trainer, file) = small_gan_checkpoint();
    let ckpt = Checkpoint::decode(&file, Path::new(FILE)).expect("decode");
    let records: Vec<Vec<u8>> = ckpt
        .trainer
        .modules
        .iter()
        .chain(&ckpt.trainer.optimizers)
        .map(|b| b.bytes.clone())
        .collect();
    let n = records.len();
    let seeds: Vec<Vec<u8>> = records
        .iter()
        .enumerate()
        .map(|(i, r)| [vec![i as u8], r.clone()].concat())
        .collect();
    fuzz("checkpoint_records", seeds, |bytes| {
        let Some((&which, record)) = bytes.split_first() else {
            return Ok(());
        };
        let mut c = ckpt.clone();
        let k = which as usize % n;
        let modules = c.trainer.modules.len();
        let blob = if k < modules {
            &mut c.trainer.modules[k]
        } else {
            &mut c.trainer.optimizers[k - modules]
        };
        blob.bytes = record.to_vec();
        load_and_step(&trainer, &c)
    });
}

/// A folder of small real images (PNG, JPEG, GIF-in-PNG-clothing...), for fuzzed presets
/// and fuzzed folders to read.
fn image_folder_seed(dir: &Path) {
    use image::ImageFormat::{Jpeg, Png};
    for (i, (format, color)) in [(Png, true), (Png, false), (Jpeg, true), (Png, true)]
        .into_iter()
        .enumerate()
    {
        let ext = if format == Jpeg { "jpg" } else { "png" };
        std::fs::write(dir.join(format!("{i}.{ext}")), encoded_image(format, color))
            .expect("write");
    }
    // And a small text file for the text data.
    let lines: String = (0..40).map(|i| format!("w{}x\n", i * 7)).collect();
    std::fs::write(dir.join("lines.txt"), lines).expect("write");
}

/// One structural change to an experiment: the values a user can type in the editor or
/// a preset, boundary values included.
#[derive(Debug, Clone)]
enum Change {
    Latent(usize),
    Widths(bool, Vec<usize>),
    Channels(bool, Vec<usize>),
    BatchNorm(bool, bool),
    Activation(usize),
    Batch(usize),
    Data(usize, usize, bool),
    Noise(f32),
    Loss(usize),
    Spectral(bool),
    Clip(f32),
    Beta(f32),
    Reconstruction(bool),
    Lr(f64),
    Betas(f32, f32),
    Optimizer(usize),
    DSteps(usize),
    Family,
    /// A recurrent net (first: encoder or generator) of these units and layers.
    Gru(bool, usize, usize),
    WordDropout(f32),
    KlWarmup(u64),
    /// PacGAN packing of the discriminator's input.
    Pack(usize),
    /// A class-conditional GAN (AC-GAN) or not.
    Conditional(bool),
}

fn change() -> impl Strategy<Value = Change> {
    let width = prop_oneof![Just(0usize), Just(1), Just(3), Just(16), Just(64)];
    let float = prop_oneof![
        Just(0.0f32),
        Just(-1.0),
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(1e-3),
        Just(0.5),
        Just(4.0),
        Just(1e30)
    ];
    prop_oneof![
        prop_oneof![
            Just(0usize),
            Just(1),
            Just(2),
            Just(7),
            Just(64),
            Just(5000)
        ]
        .prop_map(Change::Latent),
        (
            any::<bool>(),
            proptest::collection::vec(width.clone(), 0..4)
        )
            .prop_map(|(g, w)| Change::Widths(g, w)),
        (
            any::<bool>(),
            proptest::collection::vec(prop_oneof![Just(0usize), Just(1), Just(4), Just(8)], 0..7)
        )
            .prop_map(|(g, c)| Change::Channels(g, c)),
        (any::<bool>(), any::<bool>()).prop_map(|(g, b)| Change::BatchNorm(g, b)),
        (0usize..4).prop_map(Change::Activation),
        prop_oneof![
            Just(0usize),
            Just(1),
            Just(2),
            Just(3),
            Just(16),
            Just(70_000)
        ]
        .prop_map(Change::Batch),
        (0usize..6, 0usize..8, any::<bool>()).prop_map(|(k, s, c)| Change::Data(k, s, c)),
        float.clone().prop_map(Change::Noise),
        (0usize..4).prop_map(Change::Loss),
        any::<bool>().prop_map(Change::Spectral),
        float.clone().prop_map(Change::Clip),
        float.clone().prop_map(Change::Beta),
        any::<bool>().prop_map(Change::Reconstruction),
        prop_oneof![
            Just(0.0f64),
            Just(-1.0),
            Just(f64::NAN),
            Just(1e-3),
            Just(1e10)
        ]
        .prop_map(Change::Lr),
        (float.clone(), float.clone()).prop_map(|(a, b)| Change::Betas(a, b)),
        (0usize..3).prop_map(Change::Optimizer),
        prop_oneof![Just(0usize), Just(1), Just(3)].prop_map(Change::DSteps),
        Just(Change::Family),
        (
            any::<bool>(),
            prop_oneof![Just(0usize), Just(1), Just(7), Just(64), Just(5000)],
            prop_oneof![Just(0usize), Just(1), Just(2), Just(9)]
        )
            .prop_map(|(f, h, l)| Change::Gru(f, h, l)),
        float.prop_map(Change::WordDropout),
        prop_oneof![Just(0u64), Just(1), Just(1000)].prop_map(Change::KlWarmup),
        prop_oneof![Just(0usize), Just(2), Just(3), Just(64), Just(1000)].prop_map(Change::Pack),
        any::<bool>().prop_map(Change::Conditional),
    ]
}

/// The generator or encoder (`first`), else the discriminator or decoder (none for
/// the language model, which has one fixed shape of network).
fn net(e: &mut Experiment, first: bool) -> Option<&mut genlab::config::NetConfig> {
    use genlab::config::ModelConfig;
    match &mut e.model {
        ModelConfig::Gan {
            generator,
            discriminator,
            ..
        } => Some(if first { generator } else { discriminator }),
        ModelConfig::Vae {
            encoder, decoder, ..
        } => Some(if first { encoder } else { decoder }),
        ModelConfig::LanguageModel { .. } => None,
    }
}

fn apply_change(e: &mut Experiment, c: &Change, folder: &Path) {
    use genlab::config::{
        Activation, DataConfig, GanLoss, ModelConfig, NetConfig, OptimizerKind, Reconstruction,
        ToyShape,
    };
    match c {
        Change::Latent(n) => match &mut e.model {
            ModelConfig::Gan { latent_dim, .. } | ModelConfig::Vae { latent_dim, .. } => {
                *latent_dim = *n
            }
            // Its one size: the recurrent state's width.
            ModelConfig::LanguageModel { hidden, .. } => *hidden = *n,
        },
        Change::Widths(first, w) => {
            let Some(n) = net(e, *first) else { return };
            let bn = n.batch_norm();
            *n = NetConfig::Mlp {
                hidden: w.clone(),
                activation: n.activation(),
                batch_norm: bn,
            };
        }
        Change::Channels(first, ch) => {
            let Some(n) = net(e, *first) else { return };
            let bn = n.batch_norm();
            *n = NetConfig::Conv {
                channels: ch.clone(),
                activation: n.activation(),
                batch_norm: bn,
            };
        }
        Change::BatchNorm(first, b) => match net(e, *first) {
            None | Some(NetConfig::Gru { .. }) => {}
            Some(NetConfig::Mlp { batch_norm, .. } | NetConfig::Conv { batch_norm, .. }) => {
                *batch_norm = *b
            }
        },
        Change::Activation(k) => {
            let a = [
                Activation::Relu,
                Activation::LeakyRelu,
                Activation::Tanh,
                Activation::Elu,
            ][*k];
            for first in [true, false] {
                match net(e, first) {
                    None | Some(NetConfig::Gru { .. }) => {}
                    Some(
                        NetConfig::Mlp { activation, .. } | NetConfig::Conv { activation, .. },
                    ) => *activation = a,
                }
            }
        }
        Change::Batch(b) => e.training.batch_size = *b,
        Change::Data(kind, s, color) => {
            let sizes = [0usize, 1, 3, 4, 8, 12, 16, 1000];
            e.data = match kind {
                0 => DataConfig::Toy {
                    shape: ToyShape::ALL[s % 6],
                    noise: 0.05,
                },
                1 => DataConfig::Shapes {
                    count: [0usize, 1, 2, 10, 64, 300, 5, 3][*s],
                },
                2 => DataConfig::ImageFolder {
                    path: folder.to_owned(),
                    size: sizes[*s],
                    color: *color,
                },
                3 => DataConfig::ImageFolder {
                    path: folder.join("missing"),
                    size: 8,
                    color: *color,
                },
                4 => DataConfig::Names,
                _ => DataConfig::TextFile {
                    path: folder.join(["missing.txt", "lines.txt"][*s % 2]),
                },
            };
        }
        Change::Noise(v) => {
            if let DataConfig::Toy { noise, .. } = &mut e.data {
                *noise = *v;
            }
        }
        Change::Loss(k) => {
            if let ModelConfig::Gan { loss, .. } = &mut e.model {
                *loss = [
                    GanLoss::Bce,
                    GanLoss::LeastSquares,
                    GanLoss::Hinge,
                    GanLoss::Wasserstein,
                ][*k];
            }
        }
        Change::Spectral(b) => {
            if let ModelConfig::Gan { spectral_norm, .. } = &mut e.model {
                *spectral_norm = *b;
            }
        }
        Change::Clip(v) => {
            if let ModelConfig::Gan { clip, .. } = &mut e.model {
                *clip = *v;
            }
        }
        Change::Beta(v) => {
            if let ModelConfig::Vae { beta, .. } = &mut e.model {
                *beta = *v;
            }
        }
        Change::Reconstruction(b) => {
            if let ModelConfig::Vae { reconstruction, .. } = &mut e.model {
                *reconstruction = if *b {
                    Reconstruction::Bce
                } else {
                    Reconstruction::Mse
                };
            }
        }
        Change::Lr(v) => e.training.generator_optimizer.lr = *v,
        Change::Betas(a, b) => {
            e.training.generator_optimizer.beta1 = *a;
            e.training.generator_optimizer.beta2 = *b;
        }
        Change::Optimizer(k) => {
            e.training.generator_optimizer.kind = [
                OptimizerKind::Adam,
                OptimizerKind::Sgd,
                OptimizerKind::RmsProp,
            ][*k];
        }
        Change::DSteps(n) => e.training.d_steps = *n,
        Change::Gru(first, h, l) => {
            if let Some(n) = net(e, *first) {
                *n = NetConfig::Gru {
                    hidden: *h,
                    layers: *l,
                };
            }
        }
        Change::WordDropout(p) => {
            if let ModelConfig::Vae { word_dropout, .. } = &mut e.model {
                *word_dropout = *p;
            }
        }
        Change::KlWarmup(n) => {
            if let ModelConfig::Vae { kl_warmup, .. } = &mut e.model {
                *kl_warmup = *n;
            }
        }
        Change::Pack(n) => {
            if let ModelConfig::Gan { pack, .. } = &mut e.model {
                *pack = *n;
            }
        }
        Change::Conditional(on) => {
            if let ModelConfig::Gan { conditional, .. } = &mut e.model {
                *conditional = *on;
            }
        }
        Change::Family => {
            let latent = match &mut e.model {
                ModelConfig::Gan { latent_dim, .. } | ModelConfig::Vae { latent_dim, .. } => {
                    *latent_dim
                }
                // Another depth: the family stays (GANs and VAEs do not read text).
                ModelConfig::LanguageModel { layers, .. } => {
                    *layers = *layers % 3 + 1;
                    return;
                }
            };
            e.model = match &e.model {
                ModelConfig::Gan {
                    generator,
                    discriminator,
                    ..
                } => ModelConfig::Vae {
                    latent_dim: latent,
                    encoder: discriminator.clone(),
                    decoder: generator.clone(),
                    reconstruction: Reconstruction::Bce,
                    beta: 1.0,
                    kl_warmup: 0,
                    word_dropout: 0.0,
                },
                ModelConfig::Vae {
                    encoder, decoder, ..
                } => ModelConfig::Gan {
                    latent_dim: latent,
                    generator: decoder.clone(),
                    discriminator: encoder.clone(),
                    loss: GanLoss::Bce,
                    spectral_norm: false,
                    clip: 0.01,
                    minibatch_std: false,
                    instance_noise: 0.0,
                    phase_shuffle: 0,
                    spectrogram_discriminator: false,
                    pack: 0,
                    conditional: false,
                },
                ModelConfig::LanguageModel { .. } => unreachable!("returned above"),
            };
        }
    }
}

/// Structure-aware: experiments built from shipped presets by changes a user can make
/// (any architecture, data, loss, optimizer, boundary values), then validated, budgeted,
/// built into a trainer and trained for two steps with a snapshot and a checkpoint round
/// trip. Whatever the experiment, the answer is a trainer or an error: never a panic.
#[test]
fn experiments() {
    let folder = tempfile::tempdir().expect("tempdir");
    image_folder_seed(folder.path());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
    let mut seeds: Vec<Experiment> = std::fs::read_dir(&dir)
        .expect("presets")
        .filter_map(|e| e.ok())
        .filter_map(|e| Experiment::load(&e.path()).ok())
        .collect();
    seeds.sort_by(|a, b| a.title.cmp(&b.title));
    let n = seeds.len();
    let strategy = (0..n, proptest::collection::vec(change(), 1..6));
    let built = AtomicU64::new(0);
    let device = genlab::train::session::device_for(genlab::config::Backend::Cpu)
        .expect("cpu")
        .0;
    fuzz_values("experiments", 48, strategy, "", |(i, changes)| {
        let mut e = seeds[*i].clone();
        for c in changes {
            apply_change(&mut e, c, folder.path());
        }
        // Small steps keep a case fast; the shapes set is cut to a few images.
        e.training.samples_every = 1;
        e.training.metrics_every = 1;
        if let genlab::config::DataConfig::Shapes { count } = &mut e.data {
            *count = (*count).min(300);
        }
        // The text form of any experiment parses back to it.
        let _ = Experiment::parse(&e.to_toml(), Path::new(FILE));
        let problems = e.validate();
        if !problems.is_empty() {
            return Ok(());
        }
        // A case may not take more than 512 MB: the budget refuses the rest.
        if genlab::cost::check_memory(&e, Some(512 << 20)).is_err() {
            return Ok(());
        }
        let train = || -> Result<(), String> {
            let mut trainer = genlab::train::session::build_trainer(&e, &device)?;
            trainer.step();
            trainer.step();
            let _ = trainer.snapshot();
            let _ = trainer.periodic_metrics();
            let state = trainer.save_state()?;
            trainer.load_state(&state)?;
            built.fetch_add(1, Ordering::Relaxed);
            Ok(())
        };
        // A panic names the experiment that caused it, whole.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(train)).unwrap_or_else(|p| {
            let message = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{message}, training:\n{}", e.to_toml())
        })
    });
    let built = built.load(Ordering::Relaxed);
    println!("fuzz experiments: {built} trainers built and stepped");
    assert!(
        built > 0,
        "no fuzzed experiment was valid: the fuzzer tests nothing"
    );
}

/// Structure-aware: folders of fuzzed image files (mutated PNG/JPEG/GIF bytes, empty and
/// oversized-header files, other extensions) read through `folder::read` at any size and
/// colour: a set or an error naming a file in the folder, never a panic.
#[test]
fn image_folders() {
    use image::ImageFormat::{Gif, Jpeg, Png};
    let seeds = vec![
        encoded_image(Png, true),
        encoded_image(Png, false),
        encoded_image(Jpeg, true),
        encoded_image(Gif, true),
    ];
    let file = inputs(seeds);
    let strategy = (
        proptest::collection::vec((file, 0usize..4), 1..5),
        prop_oneof![Just(1usize), Just(4), Just(9), Just(28)],
        any::<bool>(),
    );
    let root = tempfile::tempdir().expect("tempdir");
    let case = AtomicU64::new(0);
    let name = root.path().to_string_lossy().into_owned();
    fuzz_values(
        "image_folders",
        64,
        strategy,
        &name,
        |(files, size, color)| {
            let dir = root
                .path()
                .join(format!("case{}", case.fetch_add(1, Ordering::Relaxed)));
            std::fs::create_dir_all(&dir).map_err(|e| format!("{name}: {e}"))?;
            for (i, (bytes, ext)) in files.iter().enumerate() {
                let ext = ["png", "jpg", "jpeg", "txt"][*ext];
                std::fs::write(dir.join(format!("{i}.{ext}")), bytes)
                    .map_err(|e| format!("{name}: {e}"))?;
            }
            let result = folder::read(&dir, *size, *color, 0);
            let _ = std::fs::remove_dir_all(&dir);
            let set = result.map_err(|e| e.to_string())?;
            let c = if *color { 3 } else { 1 };
            if set.pixels.len() != set.len() * c * size * size
                || set.pixels.iter().any(|v| !(0.0..=1.0).contains(v))
            {
                return Err(format!("{name}: a set of the wrong shape or range"));
            }
            Ok(())
        },
    );
}
