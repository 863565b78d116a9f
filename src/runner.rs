//! Everything ecs-deploy says to the GitHub Actions runner: workflow commands on
//! stdout, step outputs (GITHUB_OUTPUT), the job summary (GITHUB_STEP_SUMMARY).
//! Outside Actions the same calls print plain text, so a laptop run reads well.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::env::Env;

/// A place in a file that an annotation points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLocation {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Runner {
    in_actions: bool,
    output_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
    temp_dir: PathBuf,
}

impl Runner {
    pub(crate) fn from_env(env: &Env) -> Runner {
        let path = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Runner {
            in_actions: env.get("GITHUB_ACTIONS") == Some("true"),
            output_file: path("GITHUB_OUTPUT"),
            summary_file: path("GITHUB_STEP_SUMMARY"),
            temp_dir: path("RUNNER_TEMP").unwrap_or_else(std::env::temp_dir),
        }
    }

    /// Where files meant for later steps (the rendered task definition) go.
    pub(crate) fn temp_dir(&self) -> &Path {
        &self.temp_dir
    }

    pub(crate) fn group(&self, title: &str) {
        if self.in_actions {
            println!("::group::{}", escape_data(title));
        } else {
            println!("── {title}");
        }
    }

    pub(crate) fn end_group(&self) {
        if self.in_actions {
            println!("::endgroup::");
        }
    }

    /// Makes the runner ignore workflow commands until `resume_commands`
    /// with the returned token, so that text we relay (a task's log lines)
    /// cannot annotate, mask or set anything.
    pub(crate) fn stop_commands(&self) -> String {
        let token = random_delimiter();
        if self.in_actions {
            println!("::stop-commands::{token}");
        }
        token
    }

    pub(crate) fn resume_commands(&self, token: &str) {
        if self.in_actions {
            println!("::{token}::");
        }
    }

    pub(crate) fn info(&self, message: &str) {
        println!("{message}");
    }

    pub(crate) fn notice(&self, message: &str) {
        self.command("notice", "notice", message, None);
    }

    pub(crate) fn warning(&self, message: &str) {
        self.command("warning", "warning", message, None);
    }

    pub(crate) fn error(&self, message: &str, location: Option<&FileLocation>) {
        self.command("error", "error", message, location);
    }

    /// Asks the runner to hide `secret` in every later line of the log.
    pub(crate) fn add_mask(&self, secret: &str) {
        if self.in_actions && !secret.is_empty() {
            println!("::add-mask::{}", escape_data(secret));
        }
    }

    fn command(&self, name: &str, plain_prefix: &str, message: &str, at: Option<&FileLocation>) {
        if self.in_actions {
            let properties = at
                .map(|at| {
                    format!(
                        " file={},line={},col={}",
                        escape_property(&at.file),
                        at.line,
                        at.column
                    )
                })
                .unwrap_or_default();
            println!("::{name}{properties}::{}", escape_data(message));
        } else {
            match at {
                Some(at) => {
                    eprintln!(
                        "{plain_prefix}: {}:{}:{}: {message}",
                        at.file, at.line, at.column
                    )
                }
                None => eprintln!("{plain_prefix}: {message}"),
            }
        }
    }

    /// Sets a step output; written at once so that a later failure cannot lose it.
    pub(crate) fn set_output(&self, name: &str, value: &str) -> Result<()> {
        match &self.output_file {
            Some(path) => append(path, &output_entry(name, value, &random_delimiter()))
                .with_context(|| format!("failed to write output {name} to {}", path.display())),
            None => {
                println!("output {name}={value}");
                Ok(())
            }
        }
    }

    pub(crate) fn append_summary(&self, markdown: &str) -> Result<()> {
        match &self.summary_file {
            Some(path) => append(path, markdown)
                .with_context(|| format!("failed to write the job summary to {}", path.display())),
            None => Ok(()),
        }
    }
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// The heredoc form the runner parses: the value may hold any text, and a
/// random delimiter cannot collide with a line of it.
pub(crate) fn output_entry(name: &str, value: &str, delimiter: &str) -> String {
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

fn random_delimiter() -> String {
    let mut rng = fastrand::Rng::new();
    let suffix: String = (0..32).map(|_| rng.alphanumeric()).collect();
    format!("ghadelimiter_{suffix}")
}

/// Escapes the message part of a workflow command.
pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (file=, title=) of a workflow command.
pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn output_entry_is_a_heredoc_that_keeps_newlines() {
        assert_eq!(
            output_entry("arn", "line one\nline two", "EOF_x"),
            "arn<<EOF_x\nline one\nline two\nEOF_x\n"
        );
    }

    #[test]
    fn delimiters_are_random() {
        let (a, b) = (random_delimiter(), random_delimiter());
        assert_ne!(a, b);
        assert!(a.starts_with("ghadelimiter_") && a.len() == "ghadelimiter_".len() + 32);
    }

    #[test]
    fn outputs_are_appended_to_the_output_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("output");
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", file.to_str().unwrap()),
        ]);
        let runner = Runner::from_env(&env);
        runner.set_output("a", "1").unwrap();
        runner.set_output("b", "two\nlines").unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        assert!(lines[0].starts_with("a<<ghadelimiter_"));
        assert_eq!(lines[1], "1");
        assert_eq!(lines[2], &lines[0]["a<<".len()..]);
        assert_eq!(&lines[4..6], ["two", "lines"]);
    }
}
