//! The experiment editor: preset, data, architecture, training settings.
//! Invalid values are marked inline with the validation message.

use super::commands::Command;
use super::cost_view::CostView;
use super::run_state::RunState;
use super::words::choice;
use crate::config::{
    presets, Activation, ConfigProblem, DataConfig, Experiment, GanLoss, ModelConfig, NetConfig,
    OptimizerKind, Reconstruction, ToyShape,
};
use crate::train::device::Adapter;
use crate::train::Control;
use eframe::egui;

/// The editor of `exp` (the next run's experiment); `run` is what trains now, `adapters`
/// the machine's GPUs once listed. Returns what the edits ask of the run: new learning
/// rates apply to it at once.
pub fn experiment_ui(
    exp: &mut Experiment,
    run: &RunState,
    cost: &mut CostView,
    adapters: Option<&[Adapter]>,
    ui: &mut egui::Ui,
) -> Option<Command> {
    ui.heading("Experiment");
    running_vs_edited_ui(exp, run, ui);
    preset_ui(exp, ui);
    ui.separator();
    super::cost_view::cost_ui(cost, exp, ui);
    let before = (
        exp.training.generator_optimizer.lr,
        exp.discriminator_optimizer().lr,
    );
    let problems = exp.validate();
    ui.separator();
    ui.strong("Data");
    data_ui(exp, ui, &problems);
    ui.separator();
    ui.strong("Model");
    model_ui(exp, ui, &problems);
    ui.separator();
    ui.strong("Training");
    training_ui(exp, ui, &problems);
    backend_ui(exp, adapters, ui);
    // Learning rates apply to a running session at once.
    let after = (
        exp.training.generator_optimizer.lr,
        exp.discriminator_optimizer().lr,
    );
    (after != before && run.is_running()).then_some(Command::Tell(Control::SetLearningRates {
        generator: Some(after.0),
        discriminator: Some(after.1),
    }))
}

/// While a run trains, says whether the editor shows its experiment or another one (a
/// loaded preset, edits): what is edited applies to the next run, except learning rates.
fn running_vs_edited_ui(exp: &mut Experiment, run: &RunState, ui: &mut egui::Ui) {
    if !run.is_running() {
        return;
    }
    // Compared by reference: this runs on every frame of a run.
    let Some(running) = run.experiment.as_ref() else {
        return;
    };
    if running == exp {
        ui.label(format!(
            "Training: {} (edits apply to the next run; learning rates at once)",
            running.title
        ));
        return;
    }
    let title = running.title.clone();
    let frame = egui::Frame::group(ui.style()).fill(ui.visuals().faint_bg_color);
    frame.show(ui, |ui| {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("Editing the next run. Training now: {title}."),
        )
        .on_hover_text("The run in progress keeps the experiment it was started with; Train starts a new run of the one edited here.");
        if ui.button("Show the running experiment").clicked() {
            *exp = running.clone();
        }
    });
}

fn preset_ui(exp: &mut Experiment, ui: &mut egui::Ui) {
    let mut chosen = None;
    egui::ComboBox::new("preset", "preset")
        .selected_text("Load a preset...")
        .width(200.0)
        .show_ui(ui, |ui| {
            for (name, exp) in presets::builtin() {
                if ui
                    .selectable_label(false, &exp.title)
                    .on_hover_text(&exp.description)
                    .clicked()
                {
                    chosen = Some((name, exp));
                }
            }
        });
    if let Some((_, preset)) = chosen {
        *exp = preset;
    }
    ui.label(egui::RichText::new(&exp.title).strong());
    if !exp.description.is_empty() {
        ui.label(egui::RichText::new(&exp.description).small());
    }
}

/// Shows the problems whose field starts with `prefix`, in the error colour.
fn problems_ui(ui: &mut egui::Ui, problems: &[ConfigProblem], prefix: &str) {
    for p in problems.iter().filter(|p| p.field.starts_with(prefix)) {
        ui.colored_label(ui.visuals().error_fg_color, p.to_string());
    }
}

/// A kind of data the editor offers, with the config it starts from.
type DataKind = (&'static str, fn() -> DataConfig);

/// The kinds of data the editor offers.
const DATA_KINDS: [DataKind; 10] = [
    ("2-D toy", || DataConfig::Toy {
        shape: ToyShape::Ring,
        noise: 0.02,
    }),
    ("Built-in shapes", || DataConfig::Shapes { count: 6000 }),
    ("Built-in tones (audio)", || DataConfig::Tones {
        count: 4000,
    }),
    ("CSV points", || DataConfig::CsvPoints {
        path: Default::default(),
    }),
    ("Drawn points (2-D)", || DataConfig::Drawn {
        points: Vec::new(),
        spread: 0.05,
    }),
    ("IDX files", || DataConfig::Idx {
        images: Default::default(),
        labels: None,
    }),
    ("Image folder", || DataConfig::ImageFolder {
        path: Default::default(),
        size: 28,
        color: false,
    }),
    ("WAV folder (audio)", || DataConfig::WavFolder {
        path: Default::default(),
        sample_rate: crate::modality::audio::tones::SAMPLE_RATE,
        length: crate::modality::audio::tones::LENGTH,
    }),
    ("Built-in names (text)", || DataConfig::Names),
    ("Text file (one item per line)", || DataConfig::TextFile {
        path: Default::default(),
    }),
];

fn data_kind(data: &DataConfig) -> &'static str {
    let index = match data {
        DataConfig::Toy { .. } => 0,
        DataConfig::Shapes { .. } => 1,
        DataConfig::Tones { .. } => 2,
        DataConfig::CsvPoints { .. } => 3,
        DataConfig::Drawn { .. } => 4,
        DataConfig::Idx { .. } => 5,
        DataConfig::ImageFolder { .. } => 6,
        DataConfig::WavFolder { .. } => 7,
        DataConfig::Names => 8,
        DataConfig::TextFile { .. } => 9,
    };
    DATA_KINDS[index].0
}

fn data_ui(exp: &mut Experiment, ui: &mut egui::Ui, problems: &[ConfigProblem]) {
    let kind = data_kind(&exp.data);
    egui::ComboBox::from_label("dataset")
        .selected_text(kind)
        .show_ui(ui, |ui| {
            for (name, make) in DATA_KINDS {
                if ui.selectable_label(kind == name, name).clicked() && kind != name {
                    exp.data = make();
                    // Text is read by the language model only, and it reads nothing else.
                    let text_model = match &exp.model {
                        ModelConfig::LanguageModel { .. } => true,
                        ModelConfig::Vae { decoder, .. } => decoder.is_recurrent(),
                        ModelConfig::Gan { generator, .. } => generator.is_recurrent(),
                    };
                    if crate::modality::of(&exp.data).recurrent_only() != text_model {
                        exp.model =
                            default_model(if text_model { Family::Gan } else { Family::Lm });
                    }
                }
            }
        });
    match &mut exp.data {
        DataConfig::Toy { shape, noise } => {
            egui::ComboBox::from_label("distribution")
                .selected_text(shape.label())
                .show_ui(ui, |ui| {
                    for s in ToyShape::ALL {
                        ui.selectable_value(shape, s, s.label());
                    }
                });
            ui.add(egui::Slider::new(noise, 0.0..=0.5).text("noise std"));
        }
        DataConfig::Shapes { count } => {
            ui.add(
                egui::DragValue::new(count)
                    .range(64..=200_000)
                    .prefix("images: "),
            );
        }
        DataConfig::CsvPoints { path } => path_ui(ui, "CSV file", path),
        DataConfig::Drawn { points, spread } => {
            super::drawing::canvas(ui, points);
            ui.add(egui::Slider::new(spread, 0.0..=0.5).text("spread"))
                .on_hover_text(
                    "Standard deviation of the noise around each drawn point in the training set",
                );
        }
        DataConfig::Idx { images, labels } => {
            path_ui(ui, "images file", images);
            // Optional: the classes, for the evaluator's metrics and classes covered.
            let mut path = labels.clone().unwrap_or_default();
            path_ui(ui, "labels file", &mut path);
            *labels = (!path.as_os_str().is_empty()).then_some(path);
        }
        DataConfig::ImageFolder { path, size, color } => {
            path_ui(ui, "folder", path);
            ui.add(egui::DragValue::new(size).range(4..=512).prefix("size: "));
            ui.checkbox(color, "colour (RGB)");
        }
        DataConfig::Tones { count } => {
            ui.add(
                egui::DragValue::new(count)
                    .range(64..=200_000)
                    .prefix("clips: "),
            );
            ui.label("8 kHz, 1024 samples (0.128 s): tones at 8 pitches, sweeps, drums");
        }
        DataConfig::Names => {
            ui.label("5163 US first names (1990 Census lists, public domain), 2 to 11 letters a-z");
        }
        DataConfig::TextFile { path } => {
            path_ui(ui, "text file", path);
            ui.label(format!(
                "UTF-8, one item per line: at most {} characters a line and {} distinct characters",
                crate::modality::text::corpus::MAX_ITEM_CHARS,
                crate::modality::text::corpus::MAX_VOCABULARY
            ));
        }
        DataConfig::WavFolder {
            path,
            sample_rate,
            length,
        } => {
            path_ui(ui, "folder", path);
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(sample_rate)
                        .range(crate::modality::audio::wav::RATES)
                        .suffix(" Hz"),
                );
                ui.add(
                    egui::DragValue::new(length)
                        .range(64..=65_536)
                        .prefix("clip: ")
                        .suffix(" samples"),
                );
            });
        }
    }
    problems_ui(ui, problems, "data");
}

fn path_ui(ui: &mut egui::Ui, label: &str, path: &mut std::path::PathBuf) {
    ui.horizontal(|ui| {
        let caption = ui.label(label);
        let mut text = path.display().to_string();
        // Named by its label, not by its place: a message appearing above it (the data
        // failing to load as the user types) must not take the focus away mid-word.
        if ui
            .add(egui::TextEdit::singleline(&mut text).id_salt(label))
            .labelled_by(caption.id)
            .changed()
        {
            *path = text.into();
        }
    });
}

fn model_ui(exp: &mut Experiment, ui: &mut egui::Ui, problems: &[ConfigProblem]) {
    family_ui(exp, ui);
    match &mut exp.model {
        ModelConfig::Gan {
            latent_dim,
            generator,
            discriminator,
            loss,
            spectral_norm,
            clip,
            minibatch_std,
            instance_noise,
            phase_shuffle,
            spectrogram_discriminator,
            pack,
            conditional,
        } => {
            ui.add(
                egui::DragValue::new(latent_dim)
                    .range(0..=4096)
                    .prefix("latent size: "),
            );
            choice(
                ui,
                "loss",
                "loss",
                loss,
                &[
                    GanLoss::Bce,
                    GanLoss::LeastSquares,
                    GanLoss::Hinge,
                    GanLoss::Wasserstein,
                ],
            );
            if *loss == GanLoss::Wasserstein {
                ui.add(
                    egui::DragValue::new(clip)
                        .speed(0.001)
                        .prefix("weight clip: "),
                );
            }
            ui.checkbox(spectral_norm, "spectral norm (discriminator)");
            ui.add(
                egui::DragValue::new(instance_noise)
                    .speed(0.01)
                    .range(0.0..=1.0)
                    .prefix("instance noise: "),
            )
            .on_hover_text("Gaussian noise of this standard deviation on everything the discriminator sees, real and generated: it cannot win on detail finer than that, so the generator learns coarse structure first");
            ui.add(
                egui::DragValue::new(phase_shuffle)
                    .range(0..=8)
                    .prefix("phase shuffle: "),
            )
            .on_hover_text("Shift each conv discriminator layer's output by a random -n..n samples at every step (WaveGAN), so it cannot judge by the exact phase of fine detail");
            ui.checkbox(minibatch_std, "minibatch std (discriminator)")
                .on_hover_text("The discriminator also sees how much each batch varies (ProGAN), so a generator that collapses onto a few samples is easy to spot. Conv discriminators only.");
            ui.checkbox(spectrogram_discriminator, "spectrogram head (discriminator)")
                .on_hover_text("Audio: a second discriminator head scores each clip's log-power spectrogram, so noise at the right pitch is easy to tell from a clean note");
            ui.add(egui::DragValue::new(pack).range(0..=16).prefix("pack: "))
                .on_hover_text("PacGAN: the discriminator judges this many samples at once (real with real, generated with generated), so a generator making the same few samples gives itself away. 0 or 1: one at a time");
            ui.checkbox(conditional, "class-conditional (AC-GAN)")
                .on_hover_text("Labelled data: the generator is told which class to make and the discriminator also names the class of what it sees, so every class is asked for and each sample is pushed towards its own. Snapshots show the classes in rotation.");
            net_ui(ui, "generator", generator, problems, "model.generator");
            net_ui(
                ui,
                "discriminator",
                discriminator,
                problems,
                "model.discriminator",
            );
        }
        ModelConfig::Vae {
            latent_dim,
            encoder,
            decoder,
            reconstruction,
            beta,
            kl_warmup,
            word_dropout,
        } => {
            ui.add(
                egui::DragValue::new(latent_dim)
                    .range(0..=4096)
                    .prefix("latent size: "),
            );
            ui.add(
                egui::DragValue::new(beta)
                    .speed(0.05)
                    .range(0.0..=100.0)
                    .prefix("beta: "),
            );
            ui.add(
                egui::DragValue::new(kl_warmup)
                    .range(0..=1_000_000)
                    .prefix("KL warm-up steps: "),
            )
            .on_hover_text("The KL weight rises from 0 to beta over these first steps, so the decoder learns to use the code before the KL term can push the posterior onto the prior");
            if decoder.is_recurrent() {
                ui.add(
                    egui::Slider::new(word_dropout, 0.0..=0.9).text("word dropout"),
                )
                .on_hover_text("Share of the characters the decoder reads that are blanked while training, so it must spell the item from the code rather than from the characters before");
            } else {
                choice(
                    ui,
                    "reconstruction",
                    "reconstruction",
                    reconstruction,
                    &[Reconstruction::Bce, Reconstruction::Mse],
                );
            }
            problems_ui(ui, problems, "model.word_dropout");
            net_ui(ui, "encoder", encoder, problems, "model.encoder");
            net_ui(ui, "decoder", decoder, problems, "model.decoder");
        }
        ModelConfig::LanguageModel {
            hidden,
            layers,
            dropout,
        } => {
            ui.add(
                egui::DragValue::new(hidden)
                    .range(1..=4096)
                    .prefix("GRU units: "),
            )
            .on_hover_text("Width of each recurrent layer's state: what the model can remember of the characters so far");
            ui.add(egui::DragValue::new(layers).range(1..=8).prefix("layers: "));
            ui.add(egui::Slider::new(dropout, 0.0..=0.9).text("dropout"))
                .on_hover_text("Share of each recurrent layer's outputs zeroed at every position while training, against overfitting a small corpus");
            problems_ui(ui, problems, "model.dropout");
            problems_ui(ui, problems, "model.hidden");
            problems_ui(ui, problems, "model.layers");
        }
    }
    problems_ui(ui, problems, "model.family");
    problems_ui(ui, problems, "model.latent_dim");
    problems_ui(ui, problems, "model.beta");
    problems_ui(ui, problems, "model.clip");
}

/// The model families the editor offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Gan,
    Vae,
    Lm,
}

impl Family {
    fn of(model: &ModelConfig) -> Family {
        match model {
            ModelConfig::Gan { .. } => Family::Gan,
            ModelConfig::Vae { .. } => Family::Vae,
            ModelConfig::LanguageModel { .. } => Family::Lm,
        }
    }
    fn label(self) -> &'static str {
        match self {
            Family::Gan => "GAN",
            Family::Vae => "VAE",
            Family::Lm => "Language model (text)",
        }
    }
}

/// A family's model as a new experiment of it starts: an MLP GAN for the 2-D ring, a
/// one-layer GRU language model.
fn default_model(family: Family) -> ModelConfig {
    let mlp = || NetConfig::Mlp {
        hidden: vec![128, 128],
        activation: Default::default(),
        batch_norm: false,
    };
    let gan = ModelConfig::Gan {
        latent_dim: 2,
        generator: mlp(),
        discriminator: mlp(),
        loss: GanLoss::Bce,
        spectral_norm: false,
        clip: 0.01,
        minibatch_std: false,
        instance_noise: 0.0,
        phase_shuffle: 0,
        spectrogram_discriminator: false,
        pack: 0,
        conditional: false,
    };
    match family {
        Family::Gan => gan,
        Family::Vae => switch_family(gan, Reconstruction::Bce),
        Family::Lm => ModelConfig::LanguageModel {
            dropout: 0.0,
            hidden: 128,
            layers: 1,
        },
    }
}

/// The text presets' recurrent net: one GRU layer of 128 units.
fn small_gru() -> NetConfig {
    NetConfig::Gru {
        hidden: 128,
        layers: 1,
    }
}

/// A GAN over characters: GRU generator and discriminator, with the minibatch std
/// against collapse (the names GAN preset's settings).
fn text_gan() -> ModelConfig {
    ModelConfig::Gan {
        latent_dim: 32,
        generator: small_gru(),
        discriminator: small_gru(),
        loss: GanLoss::Bce,
        spectral_norm: false,
        clip: 0.01,
        minibatch_std: true,
        instance_noise: 0.0,
        phase_shuffle: 0,
        spectrogram_discriminator: false,
        pack: 0,
        conditional: false,
    }
}

/// A VAE over characters: GRU encoder and decoder, with KL annealing and word dropout
/// against posterior collapse (the names VAE preset's settings).
fn text_vae() -> ModelConfig {
    ModelConfig::Vae {
        latent_dim: 16,
        encoder: small_gru(),
        decoder: small_gru(),
        reconstruction: Reconstruction::Bce,
        beta: 1.0,
        kl_warmup: 1000,
        word_dropout: 0.3,
    }
}

/// GAN, VAE or language model; switching between GAN and VAE keeps the networks
/// (generator <-> decoder, discriminator <-> encoder); the language model and the other
/// two read different data, so switching to or from it changes the data too.
fn family_ui(exp: &mut Experiment, ui: &mut egui::Ui) {
    let family = Family::of(&exp.model);
    let mut want = family;
    egui::ComboBox::from_label("family")
        .selected_text(family.label())
        .show_ui(ui, |ui| {
            for f in [Family::Gan, Family::Vae, Family::Lm] {
                ui.selectable_value(&mut want, f, f.label());
            }
        });
    if want == family {
        return;
    }
    let modality = crate::modality::of(&exp.data);
    if modality.recurrent_only() {
        // Text stays text: each family's recurrent model.
        exp.model = match want {
            Family::Vae => text_vae(),
            Family::Gan => text_gan(),
            Family::Lm => default_model(want),
        };
        return;
    }
    if want == Family::Lm || family == Family::Lm {
        exp.model = default_model(want);
        exp.data = if want == Family::Lm {
            DataConfig::Names
        } else {
            DATA_KINDS[0].1()
        };
        return;
    }
    exp.model = switch_family(exp.model.clone(), modality.reconstruction());
}

/// A GAN as a VAE with its networks and the other way round; a VAE reconstructs with
/// `reconstruction`, the data's default.
fn switch_family(model: ModelConfig, reconstruction: Reconstruction) -> ModelConfig {
    match model {
        ModelConfig::Gan {
            latent_dim,
            generator,
            discriminator,
            ..
        } => ModelConfig::Vae {
            latent_dim,
            encoder: discriminator,
            decoder: generator,
            reconstruction,
            beta: 1.0,
            kl_warmup: 0,
            word_dropout: 0.0,
        },
        ModelConfig::Vae {
            latent_dim,
            encoder,
            decoder,
            ..
        } => ModelConfig::Gan {
            latent_dim,
            generator: decoder,
            discriminator: encoder,
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
        lm @ ModelConfig::LanguageModel { .. } => lm,
    }
}

fn net_ui(
    ui: &mut egui::Ui,
    name: &str,
    net: &mut NetConfig,
    problems: &[ConfigProblem],
    field: &str,
) {
    egui::CollapsingHeader::new(name)
        .default_open(true)
        .show(ui, |ui| {
            let (widths, act, bn, unit) = match net {
                NetConfig::Gru { hidden, layers } => {
                    ui.add(
                        egui::DragValue::new(hidden)
                            .range(1..=4096)
                            .prefix("GRU units: "),
                    );
                    ui.add(egui::DragValue::new(layers).range(1..=8).prefix("layers: "));
                    problems_ui(ui, problems, field);
                    return;
                }
                NetConfig::Mlp {
                    hidden,
                    activation,
                    batch_norm,
                } => (hidden, activation, batch_norm, "width"),
                NetConfig::Conv {
                    channels,
                    activation,
                    batch_norm,
                } => (channels, activation, batch_norm, "channels"),
            };
            let mut remove = None;
            for (i, w) in widths.iter_mut().enumerate() {
                ui.horizontal(|ui| {
                    ui.label(format!("layer {}", i + 1));
                    ui.add(
                        egui::DragValue::new(w)
                            .range(0..=16_384)
                            .prefix(format!("{unit}: ")),
                    );
                    if ui
                        .small_button("remove")
                        .on_hover_text("remove this layer")
                        .clicked()
                    {
                        remove = Some(i);
                    }
                });
            }
            if let Some(i) = remove {
                widths.remove(i);
            }
            if ui.small_button("+ layer").clicked() {
                let last = widths.last().copied().unwrap_or(64);
                widths.push(last);
            }
            choice(
                ui,
                format!("{field}.act"),
                "activation",
                act,
                &[
                    Activation::Relu,
                    Activation::LeakyRelu,
                    Activation::Tanh,
                    Activation::Elu,
                ],
            );
            ui.checkbox(bn, "batch norm");
            problems_ui(ui, problems, field);
        });
}

fn training_ui(exp: &mut Experiment, ui: &mut egui::Ui, problems: &[ConfigProblem]) {
    let is_gan = exp.is_gan();
    let t = &mut exp.training;
    ui.add(
        egui::DragValue::new(&mut t.batch_size)
            .range(0..=65_536)
            .prefix("batch size: "),
    );
    ui.add(
        egui::DragValue::new(&mut t.steps)
            .range(0..=10_000_000)
            .prefix("steps (0 = until stopped): "),
    );
    ui.add(egui::DragValue::new(&mut t.seed).prefix("seed: "));
    ui.add(
        egui::DragValue::new(&mut t.threads)
            .range(0..=1024)
            .prefix("CPU threads (0 = all but one): "),
    )
    .on_hover_text(format!(
        "Threads the CPU backend trains on; 0 means {} on this machine.",
        t.resolved_threads()
    ));
    choice(
        ui,
        "optimizer",
        "optimizer",
        &mut t.generator_optimizer.kind,
        &[
            OptimizerKind::Adam,
            OptimizerKind::Sgd,
            OptimizerKind::RmsProp,
        ],
    );
    let g_label = if is_gan { "generator lr: " } else { "lr: " };
    ui.add(
        egui::DragValue::new(&mut t.generator_optimizer.lr)
            .speed(1e-5)
            .range(0.0..=10.0)
            .max_decimals(6)
            .prefix(g_label),
    );
    if is_gan {
        ui.add(
            egui::DragValue::new(&mut t.d_steps)
                .range(0..=100)
                .prefix("D steps per G step: "),
        );
        let d = t
            .discriminator_optimizer
            .get_or_insert_with(|| t.generator_optimizer.clone());
        d.kind = t.generator_optimizer.kind;
        ui.add(
            egui::DragValue::new(&mut d.lr)
                .speed(1e-5)
                .range(0.0..=10.0)
                .max_decimals(6)
                .prefix("discriminator lr: "),
        );
    }
    problems_ui(ui, problems, "training");
}

/// CPU or GPU, and the wgpu adapters this machine has (listed off the UI thread).
fn backend_ui(exp: &mut Experiment, adapters: Option<&[Adapter]>, ui: &mut egui::Ui) {
    use crate::config::Backend;
    egui::ComboBox::new("backend", "backend")
        .selected_text(exp.backend.label())
        .show_ui(ui, |ui| {
            for b in [Backend::Cpu, Backend::Gpu] {
                ui.selectable_value(&mut exp.backend, b, b.label());
            }
        });
    match adapters {
        None => {
            ui.label("looking for GPU adapters...");
        }
        Some([]) => {
            ui.label("no GPU adapter found: GPU runs will offer the CPU instead");
        }
        Some(list) => {
            ui.label("GPU adapters (a GPU run takes wgpu's high-performance one):");
            for a in list {
                ui.label(format!("  {a}"));
            }
        }
    }
}
