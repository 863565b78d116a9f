//! Everything ecs-deploy says to the GitHub Actions runner: workflow commands on
//! stdout, step outputs (GITHUB_OUTPUT), the job summary (GITHUB_STEP_SUMMARY).
//! Outside Actions the same calls print plain text, so a laptop run reads well.
//!
//! Text that is not ours (AWS's messages, the inputs, the template, a task's
//! log) never reaches the log raw: lines go through `escape_log`, command
//! messages through `escape_data`, so that none of it can act as a workflow
//! command.

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
}

impl Runner {
    pub(crate) fn from_env(env: &Env) -> Runner {
        let path = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Runner {
            in_actions: env.get("GITHUB_ACTIONS") == Some("true"),
            output_file: path("GITHUB_OUTPUT"),
            summary_file: path("GITHUB_STEP_SUMMARY"),
        }
    }

    pub(crate) fn group(&self, title: &str) {
        if self.in_actions {
            println!("::group::{}", escape_data(title));
        } else {
            println!("── {}", escape_log(title));
        }
    }

    pub(crate) fn end_group(&self) {
        if self.in_actions {
            println!("::endgroup::");
        }
    }

    /// Prints another program's output lines (a task's log) as they were
    /// written: in Actions between `::stop-commands::` and a random token,
    /// so that the runner takes no line of them for a workflow command;
    /// elsewhere nothing reads commands, and the lines are escaped like ours
    /// in case the output still reaches a runner (`docker run` in a step).
    pub(crate) fn relay<'a>(&self, lines: impl IntoIterator<Item = &'a str>) {
        if !self.in_actions {
            lines.into_iter().for_each(|line| self.info(line));
            return;
        }
        let token = random_delimiter();
        println!("::stop-commands::{token}");
        for line in lines {
            println!("{line}");
        }
        println!("::{token}::");
    }

    /// Prints lines of ours that may hold text from outside.
    pub(crate) fn info(&self, message: &str) {
        println!("{}", escape_log(message));
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
            let place = at
                .map(|at| format!("{}:{}:{}: ", at.file, at.line, at.column))
                .unwrap_or_default();
            eprintln!(
                "{}",
                escape_log(&format!("{plain_prefix}: {place}{message}"))
            );
        }
    }

    /// Sets a step output; written at once so that a later failure cannot lose it.
    pub(crate) fn set_output(&self, name: &str, value: &str) -> Result<()> {
        match &self.output_file {
            Some(path) => append(path, &output_entry(name, value, &random_delimiter()))
                .with_context(|| format!("failed to write output {name} to {}", path.display())),
            None => {
                println!("{}", escape_log(&format!("output {name}={value}")));
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

/// Makes text safe to print as log lines: the runner takes a line for a
/// workflow command when, after leading whitespace, it starts with `::`, or
/// when it holds the legacy `##[` anywhere (actions/runner's
/// `ActionCommand.TryParseV2` and `TryParse`). Each line break (LF, CRLF and
/// a lone CR, which the runner also reads as one) becomes LF; a line's
/// leading `:` becomes `%3A` and every `##[` becomes `##%5B`, as the runner
/// would write them escaped. Nothing else changes, so the text stays readable.
pub(crate) fn escape_log(text: &str) -> String {
    text.replace("\r\n", "\n")
        .split(['\r', '\n'])
        .map(|line| {
            let line = line.replace("##[", "##%5B");
            let indent = line.len() - line.trim_start().len();
            match line[indent..].strip_prefix(':') {
                Some(rest) if rest.starts_with(':') => format!("{}%3A{rest}", &line[..indent]),
                _ => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Escapes the message part of a workflow command: the whole message stays
/// on the command's line, whatever line breaks it holds.
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

    /// What actions/runner takes for a workflow command: a line starting
    /// with `::` after leading whitespace, or holding `##[` anywhere.
    fn is_command(line: &str) -> bool {
        line.trim_start().starts_with("::") || line.contains("##[")
    }

    /// Lines as the runner reads them: a lone CR ends a line too.
    fn runner_lines(text: &str) -> Vec<&str> {
        text.split("\r\n")
            .flat_map(|l| l.split(['\r', '\n']))
            .collect()
    }

    #[test]
    fn no_line_of_escaped_text_is_a_workflow_command() {
        let cases = [
            ("::add-mask::x", "%3A:add-mask::x"),
            ("::error::x", "%3A:error::x"),
            ("  \t::error::x", "  \t%3A:error::x"),
            ("a\n::warning::b", "a\n%3A:warning::b"),
            ("a\r::warning::b", "a\n%3A:warning::b"),
            ("a\r\n ::warning::b", "a\n %3A:warning::b"),
            ("\u{2003}::notice::b", "\u{2003}%3A:notice::b"),
            (
                "service shop: ##[error]boom",
                "service shop: ##%5Berror]boom",
            ),
            ("###[group]x", "###%5Bgroup]x"),
            // Text that is no command stays as it is.
            (
                "arn:aws:iam::123456789012:role/x",
                "arn:aws:iam::123456789012:role/x",
            ),
            ("50% | `a` <script>] :", "50% | `a` <script>] :"),
            (":single colon", ":single colon"),
        ];
        for (text, shown) in cases {
            let escaped = escape_log(text);
            assert_eq!(escaped, shown, "{text:?}");
            assert!(
                !runner_lines(&escaped).into_iter().any(is_command),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_command_message_stays_on_the_commands_line() {
        let cases = [
            ("50% done\r\nnext", "50%25 done%0D%0Anext"),
            ("a\n::warning::b", "a%0A::warning::b"),
            ("a\r::add-mask::b", "a%0D::add-mask::b"),
            ("%0A", "%250A"),
        ];
        for (message, data) in cases {
            assert_eq!(escape_data(message), data, "{message:?}");
            assert_eq!(
                runner_lines(&format!("::error::{}", escape_data(message))).len(),
                1
            );
        }
        // `::` would end the properties, `,` start the next one.
        assert_eq!(
            escape_property("a:b,c%\n::error::x"),
            "a%3Ab%2Cc%25%0A%3A%3Aerror%3A%3Ax"
        );
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
