//! Progress bars on standard error, hidden when it is not a terminal.

use indicatif::{ProgressBar, ProgressStyle};

pub fn bar(length: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}
