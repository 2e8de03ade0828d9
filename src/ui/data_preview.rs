//! The real data, shown in the sample area before Train is pressed (as GAN Lab does):
//! loaded on a helper thread whenever the edited data changes.

use crate::config::Experiment;
use crate::train::Samples;
use crossbeam_channel::{bounded, Receiver};
use eframe::egui;

#[derive(Default)]
pub struct DataPreview {
    /// The (data, seed) the preview shows.
    shown_for: Option<(crate::config::DataConfig, u64)>,
    loading: Option<Receiver<Result<Samples, String>>>,
    samples: Option<Result<Samples, String>>,
    /// The image grid's texture, uploaded once per preview.
    texture: Option<egui::TextureHandle>,
}

impl DataPreview {
    /// Starts loading when the edited data changed; collects a finished load.
    pub fn poll(&mut self, experiment: &Experiment) {
        if let Some(rx) = &self.loading {
            if let Ok(result) = rx.try_recv() {
                self.samples = Some(result);
                self.loading = None;
                self.texture = None;
            }
        }
        let seed = experiment.training.seed;
        if self
            .shown_for
            .as_ref()
            .is_some_and(|(data, s)| *data == experiment.data && *s == seed)
        {
            return;
        }
        let key = (experiment.data.clone(), seed);
        self.shown_for = Some(key.clone());
        self.samples = None;
        self.texture = None;
        let (tx, rx) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("genlab-preview".into())
            .spawn(move || {
                let result =
                    std::panic::catch_unwind(|| crate::train::preview::real_samples(&key.0, key.1))
                        .unwrap_or_else(|p| Err(crate::train::session::panic_message(&p)));
                let _ = tx.send(result);
            });
        self.loading = spawned.is_ok().then_some(rx);
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    pub fn samples(&self) -> Option<&Result<Samples, String>> {
        self.samples.as_ref()
    }

    /// The image grid (or the clips' spectrograms) as a texture (uploaded on first use).
    pub fn grid_texture(&mut self, ctx: &egui::Context) -> Option<egui::TextureHandle> {
        if self.texture.is_none() {
            // The first picture: the image grid, or the clips' spectrograms.
            let first = match &self.samples {
                Some(Ok(samples)) => samples.pictures().into_iter().next(),
                _ => None,
            };
            if let Some((_, grid)) = first {
                let image = super::samples::color_image(&grid);
                self.texture =
                    Some(ctx.load_texture("data_preview", image, egui::TextureOptions::NEAREST));
            }
        }
        self.texture.clone()
    }
}
