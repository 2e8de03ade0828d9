//! Text: the built-in names, text files (good, bad and fuzzed), the text metrics, and
//! the language model's learning floors on a real run.

use crate::preset;
use genlab::config::{DataConfig, Experiment};
use genlab::data::{DataError, Dataset};
use genlab::modality::text::corpus::{self, parse, MAX_ITEM_CHARS, MAX_VOCABULARY};
use genlab::modality::text::quality::{js_divergence, unigram_entropy, Reference};
use genlab::train::{Event, Metrics, Samples, Session};
use std::collections::HashMap;
use std::time::Duration;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_built_in_names_are_lower_case_letters_with_a_vocabulary_of_26() {
    let names = corpus::names(0);
    assert_eq!(names.len(), 5163);
    assert_eq!(names.vocabulary.chars, ('a'..='z').collect::<Vec<_>>());
    assert_eq!(names.vocabulary.size(), 27, "26 letters and the boundary");
    assert_eq!(names.max_chars, 11);
    assert!(names.items.iter().any(|n| n == "mary"));
    // Shuffled by the seed, the same for the same seed.
    assert_eq!(corpus::names(0), names);
    assert_ne!(corpus::names(1).items, names.items);
    // A sequence: the tokens, the boundary (0), then -1 to the sequence length.
    let i = names.items.iter().position(|n| n == "mary").expect("mary");
    let mut seq = Vec::new();
    names.write_sequence(i, &mut seq);
    assert_eq!(
        seq,
        [13.0, 1.0, 18.0, 25.0, 0.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]
    );
    assert_eq!(
        names
            .vocabulary
            .decode(seq.iter().map(|&t| t.max(0.0) as u32)),
        "mary"
    );
    // 4.06 bits: what the language model's floors are measured against.
    let h = unigram_entropy(&names.items);
    assert!((h - 4.056).abs() < 0.01, "{h}");
}

#[test]
fn a_text_file_gives_one_item_per_line_and_its_own_vocabulary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("words.txt");
    // A BOM, CRLF line ends, blank lines and non-ASCII letters.
    let text =
        "\u{feff}Zoë\r\n\r\nAnna-Lena\r\nJosé\nBjörk\n  \nÅsa\nMia\nLeo\nNoah\nEmma\nLiam\nIda\n";
    std::fs::write(&path, text).expect("write");
    let set = corpus::read_file(&path, 3).expect("read");
    let mut items = set.items.clone();
    items.sort();
    assert_eq!(
        items,
        strings(&[
            "Anna-Lena",
            "Björk",
            "Emma",
            "Ida",
            "José",
            "Leo",
            "Liam",
            "Mia",
            "Noah",
            "Zoë",
            "Åsa"
        ])
    );
    assert_eq!(set.max_chars, 9);
    for c in ['ë', 'é', 'ö', 'Å', '-'] {
        assert!(set.vocabulary.token(c).is_some(), "{c}");
    }
    let data = Dataset::load(&DataConfig::TextFile { path }, 3).expect("dataset");
    assert_eq!(data.len(), 11);
    assert_eq!(data.sample_len(), 10);
}

#[test]
fn bad_text_files_are_named_with_what_is_wrong() {
    let lines = |n: usize| (0..n).map(|i| format!("item{i}\n")).collect::<String>();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "no text"),
        ("blank lines only", b"\n \n\t\n".to_vec(), "no text"),
        ("binary", vec![0x89, b'P', b'N', b'G', 0, 0, 1, 2], "binary"),
        ("latin-1", b"caf\xe9\nna\xefve\n".repeat(10), "not UTF-8"),
        (
            "control characters",
            format!("{}a\u{7}b\n", lines(20)).into_bytes(),
            "control character",
        ),
        (
            "a line too long",
            format!("{}{}\n", lines(20), "x".repeat(MAX_ITEM_CHARS + 1)).into_bytes(),
            "line 21 has 65 characters",
        ),
        ("too few items", lines(3).into_bytes(), "3 items"),
        (
            "too many characters",
            (0..200u32)
                .map(|i| format!("{}\n", char::from_u32(0x4e00 + i).unwrap()))
                .collect::<String>()
                .into_bytes(),
            "200 distinct characters",
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (what, bytes, expected) in cases {
        let path = dir.path().join(format!("{what}.txt"));
        std::fs::write(&path, &bytes).expect("write");
        let err = corpus::read_file(&path, 0).expect_err(what).to_string();
        println!("{what}: {err}");
        assert!(err.contains(expected), "{what}: {err}");
        assert!(
            err.contains(&path.display().to_string()),
            "{what} names the file: {err}"
        );
    }
    let missing = corpus::read_file(&dir.path().join("none.txt"), 0).expect_err("missing");
    assert!(matches!(missing, DataError::Io { .. }));
    const { assert!(MAX_VOCABULARY < 200) };
}

#[test]
fn fuzzed_text_files_are_read_or_refused_and_never_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = genlab::data::SeededRng::seed_from_u64(7);
    let good: Vec<u8> = corpus::names(0).items[..200].join("\n").into_bytes();
    let (mut read, mut refused) = (0, 0);
    for round in 0..400 {
        let mut bytes = good.clone();
        match round % 4 {
            // Random bytes anywhere.
            0 => {
                for _ in 0..rng.random_range(1..8) {
                    let i = rng.random_range(0..bytes.len());
                    bytes[i] = rng.random();
                }
            }
            // Cut anywhere (possibly inside a character).
            1 => bytes.truncate(rng.random_range(0..bytes.len())),
            // Pure noise.
            2 => {
                bytes = (0..rng.random_range(0..400))
                    .map(|_| rng.random())
                    .collect()
            }
            // Long runs without a line end.
            _ => {
                let at = rng.random_range(0..bytes.len());
                bytes.retain(|_| true);
                let run: Vec<u8> = vec![b'x'; rng.random_range(1..200)];
                bytes.splice(at..at, run);
            }
        }
        match parse(&bytes) {
            Ok(items) => {
                read += 1;
                assert!(items.len() >= corpus::MIN_ITEMS);
                assert!(items
                    .iter()
                    .all(|s| !s.is_empty() && s.chars().count() <= MAX_ITEM_CHARS));
            }
            Err(message) => {
                refused += 1;
                assert!(!message.is_empty());
            }
        }
    }
    println!("fuzzed text files: {read} read, {refused} refused");
    assert!(read > 0 && refused > 0);
}

#[test]
fn text_metrics_match_hand_counts() {
    let training = strings(&["ab", "abc", "b"]);
    let r = Reference::new(&training);
    let m: HashMap<&str, f64> = r
        .measure(&strings(&["ab", "ab", "ba", "zz"]))
        .into_iter()
        .collect();
    assert_eq!(m["novelty"], 0.5, "ba and zz are new");
    assert_eq!(m["uniqueness"], 0.75, "3 distinct of 4");
    // The training set against itself: no divergence; against disjoint text: 1 bit.
    let same: HashMap<&str, f64> = r.measure(&training).into_iter().collect();
    assert_eq!(same["bigram_js"], 0.0);
    assert_eq!(same["length_js"], 0.0);
    assert_eq!(same["novelty"], 0.0);
    let p: HashMap<u8, f64> = [(1, 1.0)].into();
    let q: HashMap<u8, f64> = [(2, 3.0)].into();
    assert!((js_divergence(&p, &q) - 1.0).abs() < 1e-12);
    // Half the mass shared: JS = 1 - H(1/2 mixture) terms = 0.5 bits.
    let p: HashMap<u8, f64> = [(1, 1.0), (2, 1.0)].into();
    let q: HashMap<u8, f64> = [(1, 1.0), (3, 1.0)].into();
    assert!((js_divergence(&p, &q) - 0.5).abs() < 1e-12);
    // Lengths 2, 3, 1 against 2, 2, 2, 2: JS of {1,2,3}/3 and {2}.
    let lengths: HashMap<&str, f64> = r.measure(&strings(&["xy"; 4])).into_iter().collect();
    let expected = {
        let (a, b) = (1.0 / 3.0f64, 1.0f64);
        let m2 = (a + b) / 2.0;
        let kl_p = 2.0 * a * (a / (a / 2.0)).log2() + a * (a / m2).log2();
        let kl_q = b * (b / m2).log2();
        0.5 * kl_p + 0.5 * kl_q
    };
    assert!(
        (lengths["length_js"] - expected).abs() < 1e-12,
        "{}",
        lengths["length_js"]
    );
}

#[test]
fn mlp_nets_refuse_text_and_the_language_model_refuses_other_data() {
    let mut gan_on_text = preset("gan_ring.toml");
    gan_on_text.data = DataConfig::Names;
    let problems = gan_on_text.validate();
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("language model")),
        "{problems:?}"
    );
    let mut lm_on_points = preset("lm_names.toml");
    lm_on_points.data = preset("gan_ring.toml").data;
    let problems = lm_on_points.validate();
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("reads text")),
        "{problems:?}"
    );
}

fn train(exp: Experiment) -> (Vec<Metrics>, Vec<(u64, Samples)>) {
    let s = Session::start(exp).expect("start");
    let mut rows = Vec::new();
    let mut snaps = Vec::new();
    loop {
        snaps.extend(s.drain_snapshots().into_iter().map(|s| (s.step, s.samples)));
        match s.next_event(Duration::from_secs(600)) {
            Some(Event::Metrics(m)) => rows.push(m),
            Some(Event::Finished { .. }) => {
                snaps.extend(s.drain_snapshots().into_iter().map(|s| (s.step, s.samples)));
                return (rows, snaps);
            }
            Some(Event::Failed { step, reason, .. }) => panic!("failed at step {step}: {reason}"),
            Some(_) => {}
            None => panic!("no event for 10 minutes"),
        }
    }
}

fn at(rows: &[Metrics], name: &str) -> Vec<(u64, f64)> {
    rows.iter()
        .filter_map(|m| m.get(name).map(|v| (m.step, v)))
        .collect()
}

/// The names language model at its preset's budget: held-out bits per character far
/// below the letters' unigram entropy (a model that learnt nothing of their order),
/// generated names mostly new and distinct, and the bigram divergence from the data
/// less than half the untrained model's.
#[test]
fn the_names_language_model_learns_spelling_and_makes_new_names() {
    let exp = preset("lm_names.toml");
    let entropy = unigram_entropy(&corpus::names(0).items);
    let (rows, snaps) = train(exp);
    let bpc = at(&rows, "held_out_bpc");
    let novelty = at(&rows, "novelty");
    let uniqueness = at(&rows, "uniqueness");
    let bigram = at(&rows, "bigram_js");
    let (first_bpc, last_bpc) = (bpc[0].1, bpc.last().unwrap().1);
    let (first_js, last_js) = (bigram[0].1, bigram.last().unwrap().1);
    let last_novelty = novelty.last().unwrap().1;
    let last_unique = uniqueness.last().unwrap().1;
    let fd = at(&rows, "fd");
    let (first_fd, last_fd) = (fd[0].1, fd.last().unwrap().1);
    println!(
        "names LM: held-out bits/char {first_bpc:.3} -> {last_bpc:.3} (unigram entropy {entropy:.3}); \
         bigram JS {first_js:.4} -> {last_js:.4}; novelty {last_novelty:.3}; uniqueness {last_unique:.3}; \
         FD {first_fd:.2} -> {last_fd:.2}"
    );
    // Measured 32.5 -> 2.5 on the shipped evaluator's features.
    assert!(last_fd < 0.2 * first_fd, "{first_fd} -> {last_fd}");
    // Measured 2.75 (seed 0, dropout 0.2; 2.79 without): 0.68 of the entropy. The
    // floor: 0.8 of it (3.24).
    assert!(last_bpc < 0.8 * entropy, "{last_bpc} vs {entropy}");
    // Measured 0.45 -> 0.027.
    assert!(last_js < 0.5 * first_js, "{first_js} -> {last_js}");
    // Measured 0.80 and 0.99: a model that memorised its data, or repeats a few names,
    // fails these.
    assert!(last_novelty > 0.5, "{last_novelty}");
    assert!(last_unique > 0.9, "{last_unique}");
    // The snapshots show the items, marked.
    let (_, Samples::Text(view)) = snaps.last().expect("a snapshot") else {
        panic!("text samples")
    };
    assert_eq!(view.generated.len(), view.novel.len());
    assert!(!view.positions.is_empty());
    let letters = view.generated.iter().flat_map(|s| s.chars());
    assert!(letters.into_iter().all(|c| c.is_ascii_lowercase()));
}

/// The names VAE at its preset's budget: the held-out bound in bits per character well
/// below the unigram entropy, the code in use (active units: KL annealing and word
/// dropout against posterior collapse), new names, the bigram divergence halved, and
/// reconstructions and an interpolation in the snapshot.
#[test]
fn the_names_vae_uses_its_code_and_makes_new_names() {
    let exp = preset("vae_names.toml");
    let entropy = unigram_entropy(&corpus::names(0).items);
    let (rows, snaps) = train(exp);
    let last = |name: &str| at(&rows, name).last().expect(name).1;
    let first = |name: &str| at(&rows, name)[0].1;
    let (bpc, active, novelty, js) = (
        last("held_out_bpc"),
        last("active_units"),
        last("novelty"),
        last("bigram_js"),
    );
    println!(
        "names VAE: held-out bound {:.3} -> {bpc:.3} bits/char (unigram {entropy:.3}); active units {active}; \
         novelty {novelty:.3}; bigram JS {:.4} -> {js:.4}; held-out reconstruction {:.2} -> {:.2} nats",
        first("held_out_bpc"),
        first("bigram_js"),
        first("held_out_reconstruction"),
        last("held_out_reconstruction"),
    );
    // Measured 2.90 bits, 8 active units of 16, novelty 0.90, JS 0.45 -> 0.030.
    assert!(bpc < 0.8 * entropy, "{bpc}");
    assert!(active >= 3.0, "posterior collapse: {active} active units");
    assert!(novelty > 0.5, "{novelty}");
    assert!(js < 0.5 * first("bigram_js"), "{js}");
    // The code carries the name: reconstructions from the posterior mean are far better
    // than at the start (measured 23.3 -> 9.6 nats per name).
    assert!(
        last("held_out_reconstruction") < 0.6 * first("held_out_reconstruction"),
        "{rows:?}"
    );
    let (_, Samples::Text(view)) = snaps.last().expect("a snapshot") else {
        panic!("text samples")
    };
    assert!(!view.reconstructions.is_empty());
    assert_eq!(view.interpolation.len(), 12, "two ends and 10 decodings");
    let exact = view.reconstructions.iter().filter(|(a, b)| a == b).count();
    println!(
        "reconstructed exactly: {exact} of {}",
        view.reconstructions.len()
    );
    println!("interpolation: {}", view.interpolation.join(" -> "));
}

#[test]
fn a_gru_net_outside_text_and_word_dropout_without_one_are_refused() {
    let mut vae = preset("vae_names.toml");
    vae.data = preset("vae_mlp_shapes.toml").data;
    let problems: Vec<String> = vae.validate().iter().map(|p| p.to_string()).collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("model.encoder.kind") && p.contains("text")),
        "{problems:?}"
    );
    let mut shapes = preset("vae_mlp_shapes.toml");
    if let genlab::config::ModelConfig::Vae { word_dropout, .. } = &mut shapes.model {
        *word_dropout = 0.2;
    }
    let problems: Vec<String> = shapes.validate().iter().map(|p| p.to_string()).collect();
    assert!(
        problems.iter().any(|p| p.starts_with("model.word_dropout")),
        "{problems:?}"
    );
    let mut mlp_on_text = preset("vae_mlp_shapes.toml");
    mlp_on_text.data = DataConfig::Names;
    let problems: Vec<String> = mlp_on_text
        .validate()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert!(
        problems.iter().any(|p| p.contains("use kind = \"gru\"")),
        "{problems:?}"
    );
}

/// The names GAN at its preset's budget: the bigram divergence from the data less than
/// half the untrained generator's, with novelty and uniqueness high (no collapse onto
/// a few names, which the minibatch std guards against).
#[test]
fn the_names_gan_moves_bigrams_toward_the_data_without_collapsing() {
    let (rows, snaps) = train(preset("gan_names.toml"));
    let series = |name: &str| at(&rows, name);
    let js = series("bigram_js");
    let (first, last) = (js[0].1, js.last().unwrap().1);
    let novelty = series("novelty").last().unwrap().1;
    let unique = series("uniqueness").last().unwrap().1;
    let lengths = series("length_js");
    println!(
        "names GAN: bigram JS {first:.4} -> {last:.4}; length JS {:.4} -> {:.4}; novelty {novelty:.3}; uniqueness {unique:.3}",
        lengths[0].1,
        lengths.last().unwrap().1
    );
    // Measured 0.444 -> 0.132 (seed 0), novelty 0.99, uniqueness 1.00. Letters drawn by
    // their frequency, at random lengths, score 0.199: the generator must have learnt
    // which letters follow which, not only which are common.
    assert!(last < 0.5 * first, "{first} -> {last}");
    assert!(last < 0.17, "{last}");
    assert!(novelty > 0.5, "{novelty}");
    assert!(unique > 0.9, "{unique}");
    let (_, Samples::Text(view)) = snaps.last().expect("a snapshot") else {
        panic!("text samples")
    };
    assert_eq!(view.generated.len(), 64);
}

/// The shipped names evaluator (a character language model's final state as features):
/// other real names score near the floor, letter soup and a collapsed model far from it.
#[test]
fn the_names_evaluator_tells_names_from_letter_soup_and_from_collapse() {
    use genlab::modality::text::evaluator::{for_data, TextScores};
    let saved = for_data(&DataConfig::Names).expect("the shipped names evaluator");
    println!(
        "names evaluator: {}, held-out next-character accuracy {:.3}",
        saved.dataset, saved.held_out_accuracy
    );
    // 27 next characters: a model that knew only the commonest one would get 0.19.
    assert!(saved.held_out_accuracy > 0.3, "{}", saved.held_out_accuracy);
    let names = corpus::names(0).items;
    let scores = TextScores::new(&DataConfig::Names, &names[..1024]).expect("scores");
    let get =
        |items: &[String]| -> HashMap<&str, f64> { scores.measure(items).into_iter().collect() };
    let real = get(&names[1024..1536]);
    let letters: Vec<char> = names.concat().chars().collect();
    let soup: Vec<String> = (0..512)
        .map(|i| {
            (0..2 + i % 9)
                .map(|k| letters[(i * 7919 + k * 104_729) % letters.len()])
                .collect()
        })
        .collect();
    let soup = get(&soup);
    let collapsed = get(&vec![names[0].clone(); 512]);
    println!(
        "FD: other real names {:.3}, letter soup {:.3}, one name {:.3}; recall {:.3} / {:.3} / {:.3}",
        real["fd"], soup["fd"], collapsed["fd"], real["recall"], soup["recall"], collapsed["recall"]
    );
    assert!(real["fd"] < 0.2 * soup["fd"], "{real:?} {soup:?}");
    assert!(real["fd"] < 0.2 * collapsed["fd"], "{real:?} {collapsed:?}");
    assert!(
        real["recall"] > 0.8 && collapsed["recall"] < 0.1,
        "{real:?} {collapsed:?}"
    );
}

/// A run folder keeps each snapshot's items as text, the runs panel finds them by step,
/// and `genlab sample` writes a trained text model's items.
#[test]
fn a_text_run_folder_keeps_its_items_and_genlab_sample_writes_more() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut exp = preset("lm_names.toml");
    exp.training.steps = 20;
    exp.training.samples_every = 10;
    exp.training.checkpoint_every = 20;
    exp.training.batch_size = 16;
    let folder = genlab::run::RunWriter::create(dir.path(), &exp).expect("folder");
    let s = Session::launch(exp, None, Some(folder)).expect("start");
    assert!(s.wait(Duration::from_secs(300)), "the run did not end");
    let steps = genlab::run::folder::sample_steps(dir.path());
    assert_eq!(
        steps.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [0, 10, 20]
    );
    for (_, path) in &steps {
        let text = std::fs::read_to_string(path).expect("text");
        assert_eq!(text.lines().count(), 64, "{path:?}");
        assert!(path.extension().is_some_and(|e| e == "txt"));
    }
    let out = dir.path().join("sampled");
    genlab::cli::sample(dir.path(), 30, 7, &out).expect("sample");
    let items = std::fs::read_to_string(out.join("samples.txt")).expect("samples.txt");
    assert_eq!(items.lines().count(), 30);
    let names = corpus::names(0);
    assert!(items
        .chars()
        .all(|c| c == '\n' || names.vocabulary.token(c).is_some()));
}
