//! Listening to clips: play buttons for generated, real and reconstructed clips, WAV
//! export, and a line saying what the audio output did (or that there is none).

use super::files::FileAction;
use crate::modality::audio::playback;
use crate::train::AudioView;
use eframe::egui;
use std::sync::mpsc::Receiver;

/// The clip playing now, and what the last playback said.
#[derive(Default)]
pub struct AudioOut {
    playing: Option<(String, Receiver<Result<(), String>>)>,
    /// "No audio output device (...)": shown until a playback works.
    pub message: Option<String>,
}

impl AudioOut {
    /// Plays `clip` on a thread of its own; one clip at a time.
    pub fn play(&mut self, label: String, clip: Vec<f32>, sample_rate: u32) {
        if self.playing.is_some() {
            return;
        }
        self.playing = Some((label, playback::play_in_background(clip, sample_rate)));
    }

    /// Collects a finished playback; true while one is playing.
    pub fn poll(&mut self) -> bool {
        let Some((_, rx)) = &self.playing else {
            return false;
        };
        match rx.try_recv() {
            Ok(result) => {
                self.message = result.err();
                self.playing = None;
                false
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => true,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                self.playing = None;
                false
            }
        }
    }
}

/// What a click under the audio views asks for.
pub enum ClipAction {
    /// Play this clip (copied only when clicked, never per frame).
    Play(String, Vec<f32>, u32),
    /// Save the shown generated clip `i`, or all of them, as WAV.
    Save(FileAction),
}

/// Play buttons under the audio views; right-click a generated clip to save it as WAV.
/// Draws from borrowed state only; the caller carries out what it returns.
pub fn clips_ui(
    ui: &mut egui::Ui,
    view: &AudioView,
    out: &AudioOut,
    generated: bool,
) -> Option<ClipAction> {
    let playing = out.playing.is_some();
    if playing {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
    let rate = view.sample_rate;
    let mut action = None;
    let play = |label: String, clip: &[f32]| Some(ClipAction::Play(label, clip.to_vec(), rate));
    ui.horizontal_wrapped(|ui| {
        ui.label(if generated {
            "Listen:"
        } else {
            "Listen to the data:"
        });
        for (i, clip) in view.generated.iter().enumerate() {
            // A conditional GAN's clips say which class they were asked for.
            let label = match view.classes.get(i) {
                Some(class) => format!("play {} ({class})", i + 1),
                None => format!("play {}", i + 1),
            };
            let button = ui.add_enabled(!playing, egui::Button::new(label));
            if button.clicked() {
                action = play(format!("clip {}", i + 1), clip);
            }
            if generated {
                button.context_menu(|ui| {
                    if ui.button("Save this clip as WAV...").clicked() {
                        action = Some(ClipAction::Save(FileAction::ExportClip(i)));
                        ui.close();
                    }
                });
            }
        }
        if generated && ui.button("Save all as WAV...").clicked() {
            action = Some(ClipAction::Save(FileAction::ExportClips));
        }
    });
    if !view.inputs.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.label("Held-out input | reconstruction:");
            for (i, (input, recon)) in view.inputs.iter().zip(&view.reconstructed).enumerate() {
                if ui
                    .add_enabled(!playing, egui::Button::new(format!("in {}", i + 1)))
                    .clicked()
                {
                    action = play(format!("input {}", i + 1), input);
                }
                if ui.add_enabled(!playing, egui::Button::new("out")).clicked() {
                    action = play(format!("reconstruction {}", i + 1), recon);
                }
                ui.separator();
            }
        });
    }
    match (&out.playing, &out.message) {
        (Some((label, _)), _) => {
            ui.label(format!("Playing {label}..."));
        }
        (None, Some(message)) => {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{message}. Save the clips as WAV to listen elsewhere."),
            );
        }
        _ => {}
    }
    action
}

/// Carries out what `clips_ui` returned: plays at once; a save asks for a file.
pub fn apply(out: &mut AudioOut, action: ClipAction) -> Option<super::commands::Command> {
    match action {
        ClipAction::Play(label, clip, rate) => {
            out.play(label, clip, rate);
            None
        }
        ClipAction::Save(file) => Some(super::commands::Command::AskFile(file)),
    }
}
