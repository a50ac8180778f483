//! What a user sees when citewatch has a bug. Rust's own panic message
//! (`thread 'x' panicked at …`, exit code 101) reads like a crash of the
//! user's doing; this one names it as ours, says where it happened and what to
//! report, and the command ends with exit code 3 like any run-time failure.
//!
//! One panic is no bug: std and tokio panic when the system refuses a
//! thread (a limit on processes or memory reached), having no error to hand
//! back where they start one. That is named as the limit it is.
//!
//! A panic that citewatch contains (a page parser's during a check, which
//! costs only that page) prints the same line: it is still a bug to report,
//! and the run's own log says what it cost.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::panic::PanicHookInfo;

/// Replaces Rust's panic message with [`describe`]'s, on stderr.
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| eprintln!("{}", describe(info))));
}

/// How std (`thread::spawn`, `thread::scope`, and the check's CPU pool,
/// which words its `expect` as std does) and tokio (its workers, its
/// blocking pool) say that the system refused a thread.
const THREAD_REFUSED: [&str; 2] = ["failed to spawn thread", "OS can't spawn worker thread"];

/// One line for the user, and a backtrace when `RUST_BACKTRACE` asks for one.
fn describe(info: &PanicHookInfo) -> String {
    let what = info.payload_as_str().unwrap_or("a panic without a message");
    if THREAD_REFUSED.iter().any(|p| what.starts_with(p)) {
        return thread_refused(what);
    }
    let thread = std::thread::current();
    let place = info.location().map_or_else(
        || "unknown place".to_string(),
        |l| format!("{}:{}", l.file(), l.line()),
    );
    let mut text = format!(
        "citewatch: internal error (a bug in citewatch, not in your input): {what} \
         [at {place}, thread {}]; please report it with the command that ran into it",
        thread.name().unwrap_or("unnamed"),
    );
    let backtrace = Backtrace::capture();
    match backtrace.status() {
        BacktraceStatus::Captured => text.push_str(&format!("\n{backtrace}")),
        _ => text.push_str("\n  (RUST_BACKTRACE=1 adds a backtrace to the report)"),
    }
    text
}

/// What to do about a thread the system refused, with the system's reason:
/// the `message` of std's `Os { .. }` error, or what tokio wrote after its
/// colon.
fn thread_refused(what: &str) -> String {
    let reason = what
        .split_once("message: \"")
        .and_then(|(_, m)| m.split_once('"'))
        .map(|(m, _)| m)
        .or_else(|| what.split_once(": ").map(|(_, r)| r))
        .unwrap_or(what);
    format!(
        "citewatch: the system refused to start a thread ({reason}): a limit on threads \
         or processes (ulimit -u, systemd's TasksMax, a container's pids limit) or on \
         memory is reached; raise it, or run fewer programs at once"
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_panic_is_described_as_our_bug_with_its_place_and_thread() {
        let seen = Arc::new(Mutex::new(String::new()));
        let keep = seen.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            *keep.lock().unwrap() = super::describe(info);
        }));
        let joined = std::thread::Builder::new()
            .name("judge".into())
            .spawn(|| panic!("the sky fell"))
            .unwrap()
            .join();
        std::panic::set_hook(previous);
        assert!(joined.is_err());
        let text = seen.lock().unwrap().clone();
        assert!(
            text.starts_with("citewatch: internal error (a bug in citewatch, not in your input): the sky fell [at src/bug.rs:"),
            "{text}"
        );
        assert!(text.contains(", thread judge]; please report it"), "{text}");
    }

    #[test]
    fn a_thread_the_system_refused_is_named_with_its_reason() {
        for (what, reason) in [
            (
                "failed to spawn thread: Os { code: 11, kind: WouldBlock, message: \"Resource temporarily unavailable\" }",
                "(Resource temporarily unavailable)",
            ),
            (
                "OS can't spawn worker thread: Resource temporarily unavailable (os error 11)",
                "(Resource temporarily unavailable (os error 11))",
            ),
        ] {
            let text = super::thread_refused(what);
            assert!(
                text.starts_with(&format!(
                    "citewatch: the system refused to start a thread {reason}: "
                )),
                "{text}"
            );
            assert!(!text.contains("bug"), "{text}");
        }
    }
}
