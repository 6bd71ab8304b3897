//! The `git` CLI with bounds: every call that may reach a remote gets HTTP
//! low-speed limits and a wall-clock timeout, so a remote that accepts a
//! connection and never answers (git://, http://, ssh) cannot hang a command.
//!
//! Defaults, changed with environment variables (seconds):
//! - `CIUX_GIT_TIMEOUT` (300): the longest one git call may run, wall clock;
//! - `CIUX_GIT_LOW_SPEED_TIME` (60): an HTTP transfer slower than 1 KB/s for
//!   this long is aborted by git itself (`http.lowSpeedLimit`/`lowSpeedTime`).

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Wall-clock bound of one git call.
pub(crate) const TIMEOUT_VAR: &str = "CIUX_GIT_TIMEOUT";
/// Seconds under 1 KB/s after which git aborts an HTTP transfer.
pub(crate) const LOW_SPEED_TIME_VAR: &str = "CIUX_GIT_LOW_SPEED_TIME";
const DEFAULT_TIMEOUT: u64 = 300;
const DEFAULT_LOW_SPEED_TIME: u64 = 60;
/// Bytes per second under which a transfer counts as stalled.
const LOW_SPEED_LIMIT: u64 = 1000;

fn seconds(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                tracing::warn!(
                    "{var}={text:?} is not a positive number of seconds; using {default}"
                );
                default
            }
        },
        Err(_) => default,
    }
}

/// The wall-clock bound of one git call, from `CIUX_GIT_TIMEOUT`.
pub(crate) fn timeout() -> Duration {
    Duration::from_secs(seconds(TIMEOUT_VAR, DEFAULT_TIMEOUT))
}

/// `git` with the low-speed limits, never prompting, stdin closed.
pub(crate) fn git_command() -> Command {
    let mut cmd = Command::new("git");
    let low_speed_time = seconds(LOW_SPEED_TIME_VAR, DEFAULT_LOW_SPEED_TIME);
    cmd.arg("-c")
        .arg(format!("http.lowSpeedLimit={LOW_SPEED_LIMIT}"))
        .arg("-c")
        .arg(format!("http.lowSpeedTime={low_speed_time}"))
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    cmd
}

/// Why a bounded git call gave no output.
#[derive(Debug)]
pub(crate) enum RunError {
    Spawn(std::io::Error),
    /// Killed after running this long.
    TimedOut(Duration),
}

impl RunError {
    /// A sentence for messages: what failed, and how to allow longer.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Spawn(e) => format!("cannot run git: {e}"),
            Self::TimedOut(limit) => format!(
                "git did not finish within {} s and was stopped (set {TIMEOUT_VAR} to allow longer)",
                limit.as_secs()
            ),
        }
    }
}

/// Run `cmd` to completion, or kill it once [`timeout`] has passed.
pub(crate) fn output(cmd: &mut Command) -> Result<Output, RunError> {
    output_within(cmd, timeout())
}

pub(crate) fn output_within(cmd: &mut Command, limit: Duration) -> Result<Output, RunError> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                stop(&mut child);
                // A helper of git (git-remote-http) may still hold the pipes:
                // the readers are left to end with it.
                return Err(RunError::TimedOut(limit));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                stop(&mut child);
                return Err(RunError::Spawn(e));
            }
        }
    };
    let join = |h: std::thread::JoinHandle<Vec<u8>>| h.join().unwrap_or_default();
    Ok(Output {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_outlives_its_bound_is_stopped() {
        let started = Instant::now();
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let err = output_within(&mut cmd, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, RunError::TimedOut(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2"]);
        let out = output_within(&mut cmd, Duration::from_secs(10)).unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }
}
