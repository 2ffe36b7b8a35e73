//! A progress bar on stderr while layers are read: only for a person at a terminal, never in
//! CI logs or with `--quiet`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use rempart::{Progress, ProgressFn};

static QUIET: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether the user asked for nothing on stderr but errors (`--quiet`).
pub(crate) fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A progress reporter, or `None` when stderr is not a terminal or the user asked for quiet.
pub(crate) fn reporter() -> Option<ProgressFn> {
    if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar: Arc<Mutex<Option<ProgressBar>>> = Arc::new(Mutex::new(None));
    Some(Arc::new(move |event: Progress| {
        let Ok(mut slot) = bar.lock() else { return };
        match event {
            Progress::Started {
                layers_to_read,
                cached,
            } => {
                if layers_to_read == 0 {
                    return;
                }
                let progress = ProgressBar::new(layers_to_read as u64);
                progress.set_style(
                    ProgressStyle::with_template(
                        "{spinner} reading layers {pos}/{len} {wide_bar} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                if cached > 0 {
                    progress.set_message(format!("({cached} from cache)"));
                }
                progress.enable_steady_tick(std::time::Duration::from_millis(120));
                *slot = Some(progress);
            }
            Progress::LayerRead { .. } => {
                if let Some(progress) = slot.as_ref() {
                    progress.inc(1);
                }
            }
            Progress::LayersDone => {
                if let Some(progress) = slot.take() {
                    progress.finish_and_clear();
                }
            }
        }
    }))
}
