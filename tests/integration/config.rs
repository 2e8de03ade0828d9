use crate::preset;
use genlab::config::{presets, DataConfig, Experiment, ModelConfig, NetConfig};

fn fields(e: &Experiment) -> Vec<String> {
    e.validate().into_iter().map(|p| p.field).collect()
}

#[test]
fn every_shipped_preset_round_trips_through_toml_and_validates() {
    assert!(!presets::BUILTIN.is_empty());
    for (name, text) in presets::BUILTIN {
        let exp = Experiment::from_toml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !exp.title.is_empty() && exp.description.len() > 80,
            "{name} needs a title and a description"
        );
        if matches!(exp.data, DataConfig::Idx { .. }) {
            // The IDX preset asks the user for the files' location.
            assert_eq!(fields(&exp), vec!["data.images"], "{name}");
        } else if matches!(
            exp.data,
            DataConfig::ImageFolder { .. }
                | DataConfig::WavFolder { .. }
                | DataConfig::TextFile { .. }
        ) {
            // So do the image-folder, WAV-folder and text-file presets.
            assert_eq!(fields(&exp), vec!["data.path"], "{name}");
        } else {
            assert!(exp.validate().is_empty(), "{name}: {:?}", exp.validate());
        }
        let again = Experiment::from_toml(&exp.to_toml()).expect("re-parse");
        assert_eq!(exp, again, "{name} changed in a TOML round trip");
    }
}

#[test]
fn unknown_fields_are_errors() {
    let mut text = presets::BUILTIN[0].1.to_string();
    text = text.replace("batch_size =", "batch_sise = 3\nbatch_size =");
    let err = Experiment::from_toml(&text).expect_err("unknown field accepted");
    assert!(err.to_string().contains("batch_sise"), "{err}");
    let text = presets::BUILTIN[0]
        .1
        .replace("kind = \"mlp\"", "kind = \"mlp\"\ncolour = 1");
    assert!(Experiment::from_toml(&text).is_err());
}

#[test]
fn zero_width_names_the_layer() {
    let mut e = preset("gan_ring.toml");
    if let ModelConfig::Gan {
        generator: NetConfig::Mlp { hidden, .. },
        ..
    } = &mut e.model
    {
        hidden[1] = 0;
    }
    let problems = e.validate();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].to_string(),
        "model.generator.hidden[1]: width 0, must be between 1 and 16384"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut e = preset("gan_ring.toml");
    e.training.batch_size = 0;
    e.training.d_steps = 0;
    e.training.metrics_every = 0;
    e.training.samples_every = 0;
    e.training.generator_optimizer.lr = -1.0;
    e.training.generator_optimizer.beta1 = 1.5;
    e.data = DataConfig::Toy {
        shape: genlab::config::ToyShape::Moons,
        noise: f32::NAN,
    };
    if let ModelConfig::Gan {
        latent_dim,
        clip,
        discriminator: NetConfig::Mlp { hidden, .. },
        ..
    } = &mut e.model
    {
        *latent_dim = 0;
        *clip = 0.0;
        hidden[0] = 100_000;
    }
    let f = fields(&e);
    for expected in [
        "training.batch_size",
        "training.d_steps",
        "training.metrics_every",
        "training.samples_every",
        "training.generator_optimizer.lr",
        "training.generator_optimizer.beta1",
        "data.noise",
        "model.latent_dim",
        "model.clip",
        "model.discriminator.hidden[0]",
    ] {
        assert!(
            f.iter().any(|x| x == expected),
            "missing {expected} in {f:?}"
        );
    }
}

#[test]
fn conv_nets_are_rejected_on_points_and_on_indivisible_images() {
    let mut e = preset("dcgan_shapes.toml");
    e.data = DataConfig::Toy {
        shape: genlab::config::ToyShape::Ring,
        noise: 0.02,
    };
    assert!(fields(&e).contains(&"model.generator.channels".to_string()));
    let mut e = preset("dcgan_shapes.toml");
    if let ModelConfig::Gan {
        generator: NetConfig::Conv { channels, .. },
        ..
    } = &mut e.model
    {
        channels.push(32); // 3 stride-2 layers cannot make 28x28
    }
    let problems = e.validate();
    assert!(
        problems
            .iter()
            .any(|p| p.field == "model.generator.channels" && p.message.contains("divisible by 8")),
        "{problems:?}"
    );
    let mut e = preset("dcgan_shapes.toml");
    if let ModelConfig::Gan {
        generator: NetConfig::Conv { channels, .. },
        ..
    } = &mut e.model
    {
        channels.clear();
    }
    assert!(fields(&e).contains(&"model.generator.channels".to_string()));
}

#[test]
fn the_spectrogram_discriminator_is_refused_off_audio() {
    let mut e = preset("dcgan_shapes.toml");
    if let ModelConfig::Gan {
        spectrogram_discriminator,
        ..
    } = &mut e.model
    {
        *spectrogram_discriminator = true;
    }
    assert!(fields(&e).contains(&"model.spectrogram_discriminator".to_string()));
    let mut e = preset("wavegan_tones.toml");
    if let ModelConfig::Gan {
        spectrogram_discriminator,
        ..
    } = &mut e.model
    {
        *spectrogram_discriminator = true;
    }
    assert!(e.validate().is_empty(), "{:?}", e.validate());
}

#[test]
fn packing_needs_images_or_audio_and_a_divisor_of_the_batch() {
    let with_pack = |name: &str, n: usize| {
        let mut e = preset(name);
        if let ModelConfig::Gan {
            pack, conditional, ..
        } = &mut e.model
        {
            *pack = n;
            // The WaveGAN preset is conditional, which packing rules out (tested below).
            *conditional = false;
        }
        e
    };
    assert!(with_pack("dcgan_shapes.toml", 2).validate().is_empty());
    assert!(with_pack("wavegan_tones.toml", 4).validate().is_empty());
    assert_eq!(
        fields(&with_pack("dcgan_shapes.toml", 3)),
        vec!["model.pack"]
    );
    assert_eq!(fields(&with_pack("gan_ring.toml", 2)), vec!["model.pack"]);
    assert!(
        with_pack("gan_ring.toml", 1).validate().is_empty(),
        "1 is alone"
    );
}

#[test]
fn a_conditional_gan_needs_labelled_data_and_one_sample_a_judgement() {
    let conditional = |name: &str, pack_by: usize| {
        let mut e = preset(name);
        if let ModelConfig::Gan {
            conditional, pack, ..
        } = &mut e.model
        {
            *conditional = true;
            *pack = pack_by;
        }
        e
    };
    for labelled in ["wavegan_tones.toml", "dcgan_shapes.toml"] {
        assert!(conditional(labelled, 0).validate().is_empty(), "{labelled}");
    }
    // 2-D points have no classes, and an IDX file without its labels file neither.
    assert_eq!(
        fields(&conditional("gan_ring.toml", 0)),
        vec!["model.conditional"]
    );
    let mut idx = conditional("dcgan_shapes.toml", 0);
    idx.data = DataConfig::Idx {
        images: "digits.idx".into(),
        labels: None,
    };
    assert!(fields(&idx).contains(&"model.conditional".to_string()));
    assert_eq!(
        fields(&conditional("dcgan_shapes.toml", 2)),
        vec!["model.conditional"]
    );
}

#[test]
fn data_paths_and_sizes_are_checked() {
    let mut e = preset("gan_ring.toml");
    e.data = DataConfig::CsvPoints { path: "".into() };
    assert_eq!(fields(&e), vec!["data.path"]);
    e.data = DataConfig::Idx {
        images: "".into(),
        labels: None,
    };
    assert_eq!(fields(&e), vec!["data.images"]);
    e.data = DataConfig::ImageFolder {
        path: "x".into(),
        size: 2,
        color: false,
    };
    assert_eq!(fields(&e), vec!["data.size"]);
    e.data = DataConfig::Shapes { count: 3 };
    assert_eq!(fields(&e), vec!["data.count"]);
}

#[test]
fn vae_beta_and_discriminator_optimizer_are_checked() {
    let mut e = preset("vae_mlp_shapes.toml");
    if let ModelConfig::Vae { beta, .. } = &mut e.model {
        *beta = -1.0;
    }
    e.training.discriminator_optimizer = Some(genlab::config::OptimizerConfig {
        kind: Default::default(),
        lr: 0.0,
        beta1: 0.5,
        beta2: 0.999,
    });
    let f = fields(&e);
    assert!(f.contains(&"model.beta".to_string()), "{f:?}");
    assert!(
        f.contains(&"training.discriminator_optimizer.lr".to_string()),
        "{f:?}"
    );
}

#[test]
fn load_names_the_file_and_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "title = \"x\"\n[data]\nkind = \"toy\"\nshape = \"hexagon\"\n",
    )
    .expect("write");
    let err = Experiment::load(&path)
        .expect_err("broken preset loaded")
        .to_string();
    assert!(err.contains("broken.toml"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("hexagon"), "{err}");
    // A wrong type inside a tagged table: toml points at the table, GenLab at the key.
    std::fs::write(
        &path,
        "title = \"x\"\n[data]\nkind = \"toy\"\nshape = \"ring\"\nnoise = \"loud\"\n",
    )
    .expect("write");
    let err = Experiment::load(&path)
        .expect_err("wrong type loaded")
        .to_string();
    assert!(err.contains("data.noise (line 5)"), "{err}");
}

#[test]
fn layer_counts_beta2_and_vae_bce_on_points_are_checked() {
    let mut e = preset("gan_ring.toml");
    if let ModelConfig::Gan {
        generator: NetConfig::Mlp { hidden, .. },
        ..
    } = &mut e.model
    {
        *hidden = vec![8; 33];
    }
    e.training.generator_optimizer.beta2 = 1.0;
    let f = fields(&e);
    assert!(f.contains(&"model.generator.hidden".to_string()), "{f:?}");
    assert!(
        f.contains(&"training.generator_optimizer.beta2".to_string()),
        "{f:?}"
    );
    let mut e = preset("dcgan_shapes.toml");
    if let ModelConfig::Gan {
        discriminator: NetConfig::Conv { channels, .. },
        ..
    } = &mut e.model
    {
        *channels = vec![4; 7];
    }
    assert!(fields(&e).contains(&"model.discriminator.channels".to_string()));
    let mut e = preset("vae_mlp_shapes.toml");
    e.data = DataConfig::Toy {
        shape: genlab::config::ToyShape::Moons,
        noise: 0.05,
    };
    assert_eq!(fields(&e), vec!["model.reconstruction"]);
}

#[test]
fn every_file_in_presets_is_shipped_and_trains_with_finite_losses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("presets/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    let mut shipped: Vec<String> = presets::BUILTIN
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    shipped.sort();
    assert_eq!(files, shipped, "presets/ and presets::BUILTIN differ");
    assert!(files.len() >= 10);
    let (device, _) =
        genlab::train::session::device_for(genlab::config::Backend::Cpu).expect("cpu");
    for name in files {
        let text = std::fs::read_to_string(dir.join(&name)).expect("read");
        let mut exp = Experiment::from_toml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if matches!(
            exp.data,
            DataConfig::Idx { .. } | DataConfig::ImageFolder { .. } | DataConfig::WavFolder { .. }
        ) {
            continue; // needs the user's files; its validation is checked above
        }
        if let DataConfig::TextFile { path } = &mut exp.data {
            // A text file of the user's: the built-in names as one.
            *path = dir.join("../assets/names.txt");
        }
        // Small data and batches: this checks that every preset builds and steps, not that it learns.
        if let DataConfig::Shapes { count } | DataConfig::Tones { count } = &mut exp.data {
            *count = 256;
        }
        exp.training.batch_size = exp.training.batch_size.min(16);
        let mut trainer = genlab::train::session::build_trainer(&exp, &device)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for _ in 0..3 {
            for (k, v) in trainer.step() {
                assert!(v.is_finite(), "{name}: {k} = {v}");
            }
        }
        let _ = trainer.snapshot();
    }
}

#[test]
fn an_absurd_thread_count_is_named_and_zero_means_all_cores_but_one() {
    let mut e = preset("gan_ring.toml");
    assert_eq!(
        e.training.threads, 0,
        "presets leave the choice to the machine"
    );
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    assert_eq!(
        e.training.resolved_threads(),
        cores.saturating_sub(1).max(1)
    );
    e.training.threads = 5000;
    assert_eq!(fields(&e), vec!["training.threads".to_string()]);
    e.training.threads = 3;
    assert!(fields(&e).is_empty());
    assert_eq!(e.training.resolved_threads(), 3);
}

/// A value of the wrong type in a tagged table that also holds multi-byte text (a title
/// in another script, an accented comment) once made the error locator slice inside a
/// character and panic. Every placement of such text, around every wrong value, must give
/// an error naming the file.
#[test]
fn wrong_types_beside_multibyte_text_are_errors_not_panics() {
    let base = presets::BUILTIN
        .iter()
        .find(|(n, _)| *n == "gan_ring.toml")
        .expect("gan_ring")
        .1;
    let wrong = ["\"é\"", "\"日本語\"", "\"x\"", "1", "true", "[\"ü\"]"];
    let extra = ["ü", "日本", "🙂", "é = 1", "\"é\""];
    let lines: Vec<&str> = base.lines().collect();
    let mut cases = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some((key, _)) = line.split_once(" = ") else {
            continue;
        };
        for value in wrong {
            for (j, text) in extra.iter().enumerate() {
                let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                edited[i] = format!("{key} = {value}");
                // Before the bad line, after it, as a comment at its end, and at the top.
                match j % 4 {
                    0 => edited.insert(i, format!("# {text}")),
                    1 => edited.insert(i + 1, format!("# {text}")),
                    2 => edited[i].push_str(&format!(" # {text}")),
                    _ => edited.insert(0, format!("# {text}")),
                }
                let doc = edited.join("\n");
                let path = std::path::Path::new("crafted.toml");
                let result = std::panic::catch_unwind(|| Experiment::parse(&doc, path));
                let Ok(result) = result else {
                    panic!("parsing panicked on:\n{doc}");
                };
                if let Err(e) = result {
                    assert!(e.to_string().contains("crafted.toml"), "{e}");
                }
                cases += 1;
            }
        }
    }
    assert!(cases > 100, "{cases}");
    // The case that panicked: a line inside a multi-line string starts with a multi-byte
    // character and holds the same bad value.
    let doc = "title = \"x\"\n[data]\nkind = \"image_folder\"\npath = \"\"\"\né = \"loud\"\n\"\"\"\nsize = \"loud\"\n";
    let path = std::path::Path::new("crafted.toml");
    let result = std::panic::catch_unwind(|| Experiment::parse(doc, path));
    let err = result
        .expect("no panic")
        .expect_err("a wrong type")
        .to_string();
    assert!(err.contains("crafted.toml"), "{err}");
}
