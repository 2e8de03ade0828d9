//! A run folder written on its own thread, fed by the training thread itself: what reaches
//! the disk never depends on a window's frame loop, and PNG encoding and file I/O never
//! cost the training loop or the window more than a queue slot.

use super::RunWriter;
use crate::checkpoint::EncodedCheckpoint;
use crate::eval::diagnostics::Diagnostic;
use crate::train::{Event, Metrics, Snapshot};
use crossbeam_channel::{bounded, Sender};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Records waiting to be written. When the disk falls behind, the training thread waits
/// for a slot: memory stays bounded however slow the disk (checkpoints are megabytes).
const QUEUE: usize = 16;

enum Record {
    Metrics(Metrics),
    Snapshot(Box<Snapshot>),
    Checkpoint(EncodedCheckpoint),
    Diagnostic(Diagnostic),
    Finish {
        status: &'static str,
        step: u64,
        reason: Option<String>,
    },
}

/// The sending end of a run folder's writer thread.
pub struct RunRecorder {
    dir: PathBuf,
    tx: Option<Sender<Record>>,
    thread: Option<JoinHandle<()>>,
}

impl RunRecorder {
    /// Starts the writer thread for a folder already created (or reopened) by `writer`.
    /// Checkpoints written and write errors are reported on `events`, as the session's own.
    pub fn spawn(mut writer: RunWriter, events: Sender<Event>) -> std::io::Result<RunRecorder> {
        let dir = writer.dir().to_owned();
        let (tx, rx) = bounded::<Record>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("genlab-run-writer".into())
            .spawn(move || {
                for record in rx {
                    let result = match record {
                        Record::Metrics(m) => writer
                            .write_metrics(&m)
                            .map_err(|e| format!("metrics.csv: {e}")),
                        Record::Snapshot(s) => writer
                            .write_snapshot(&s)
                            .map(|_| ())
                            .map_err(|e| format!("sample image: {e}")),
                        Record::Diagnostic(d) => writer
                            .write_diagnostic(&d)
                            .map_err(|e| format!("diagnostics.csv: {e}")),
                        Record::Checkpoint(c) => match writer.write_checkpoint(&c) {
                            Ok(path) => {
                                let _ =
                                    events.send(Event::CheckpointWritten { step: c.step, path });
                                Ok(())
                            }
                            Err(e) => Err(format!("checkpoint of step {}: {e}", c.step)),
                        },
                        Record::Finish {
                            status,
                            step,
                            reason,
                        } => writer
                            .finish(status, step, reason.as_deref())
                            .map_err(|e| format!("summary.toml: {e}")),
                    };
                    if let Err(e) = result {
                        let _ = events.send(Event::WriteError(e));
                    }
                }
            })?;
        Ok(RunRecorder {
            dir,
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn metrics(&self, m: &Metrics) {
        self.send(Record::Metrics(m.clone()));
    }

    pub fn checkpoint(&self, c: EncodedCheckpoint) {
        self.send(Record::Checkpoint(c));
    }

    pub fn diagnostic(&self, d: &Diagnostic) {
        self.send(Record::Diagnostic(d.clone()));
    }

    pub fn snapshot(&self, s: &Snapshot) {
        self.send(Record::Snapshot(Box::new(s.clone())));
    }

    /// Writes the summary (status `finished`, `stopped` or `failed`) after everything
    /// queued, and waits until all of it is on disk.
    pub fn finish(mut self, status: &'static str, step: u64, reason: Option<&str>) {
        self.send(Record::Finish {
            status,
            step,
            reason: reason.map(str::to_owned),
        });
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn send(&self, r: Record) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(r);
        }
    }
}
