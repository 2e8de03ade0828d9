//! GenLab: a workbench for training GANs and VAEs and watching them learn.
//!
//! An [`config::Experiment`] (plain serde data) goes into a [`train::Session`] that runs on
//! its own thread and streams plain-data events; the window and the headless CLI are two
//! observers of the same stream.

pub mod alloc;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod cost;
pub mod data;
pub mod durable;
pub mod eval;
pub mod export;
pub mod kernels;
pub mod modality;
pub mod model;
pub mod run;
pub mod sweep;
pub mod train;
pub mod ui;
