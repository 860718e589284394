//! What a check is calling right now, said before each call that may kill its
//! process, so that its parent can name the sub-case a crash happened in
//! ("tcache=a PROT_NONE page", "tv=NULL"). A child process sends each step
//! back on its reply channel; anywhere else steps go nowhere.

use std::sync::OnceLock;

static SINK: OnceLock<fn(&str)> = OnceLock::new();

/// Sends every later step to `sink` (once per process: a child's reply channel).
pub fn report_to(sink: fn(&str)) {
    let _ = SINK.set(sink);
}

/// Says that the check is about to call `what`.
pub fn step(what: &str) {
    if let Some(sink) = SINK.get() {
        sink(what);
    }
}
