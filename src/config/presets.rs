//! The presets shipped in presets/, embedded so the app works from any folder.

use super::Experiment;

/// (file name, TOML text) of every shipped preset.
pub const BUILTIN: &[(&str, &str)] = &[
    ("gan_ring.toml", include_str!("../../presets/gan_ring.toml")),
    ("dcgan_shapes.toml", include_str!("../../presets/dcgan_shapes.toml")),
    ("vae_mlp_shapes.toml", include_str!("../../presets/vae_mlp_shapes.toml")),
];

/// The shipped presets that parse (all of them, as a test checks).
pub fn builtin() -> Vec<(&'static str, Experiment)> {
    BUILTIN
        .iter()
        .filter_map(|(name, text)| Experiment::from_toml(text).ok().map(|e| (*name, e)))
        .collect()
}
