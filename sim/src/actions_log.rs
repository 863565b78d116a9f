//! What a person sees of a step in the GitHub Actions UI, from what the
//! step printed. The runner reads every line for a workflow command
//! (actions/runner's `ActionCommandManager` and `ActionCommand.TryParseV2`)
//! and writes what is left, masked, to the log that the UI renders; the
//! rehearsal prints the same view in a terminal.
//!
//! Followed here: `::group::`/`::endgroup::` as a heading with the group's
//! lines indented under it (the UI folds them); `::error`, `::warning` and
//! `::notice` as `Error: `/`Warning: `/`Notice: ` lines, their file and line
//! kept for the annotations the run's page lists; `::debug::`, `::add-mask::`
//! and the other commands hidden; every value given to `::add-mask::` shown
//! as `***` from then on; `%25`, `%0D`, `%0A` decoded in a command's message
//! (and `%3A`, `%2C` in its properties); between `::stop-commands::TOKEN`
//! and `::TOKEN::` nothing is a command (the runner shows both lines).
//! Left out: step debug logging, the runner's derived masks (base64, JSON
//! escapes of a secret) and the legacy `##[command]` form.

/// The commands the runner knows. A line `::name::…` with another name is
/// no command: the runner shows it as printed.
const COMMANDS: [&str; 15] = [
    "add-mask",
    "add-matcher",
    "add-path",
    "debug",
    "echo",
    "endgroup",
    "error",
    "group",
    "notice",
    "remove-matcher",
    "save-state",
    "set-env",
    "set-output",
    "stop-commands",
    "warning",
];

/// A workflow command as the runner parses it.
#[derive(Debug, PartialEq, Eq)]
struct Command {
    /// Lower-cased (the runner compares names without case).
    name: String,
    /// `key=value` pairs in the order given, values decoded.
    properties: Vec<(String, String)>,
    /// The message, decoded.
    data: String,
}

/// An `::error`, `::warning` or `::notice` as the run's page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// `Error`, `Warning` or `Notice`.
    pub level: &'static str,
    pub message: String,
    /// `file#L<line>` when the command names a file.
    pub place: Option<String>,
    pub title: Option<String>,
}

impl Annotation {
    /// `Error at task-definition.yaml#L3: title: message`, the message's
    /// further lines indented under it.
    pub fn lines(&self) -> Vec<String> {
        let place = self
            .place
            .as_ref()
            .map(|place| format!(" at {place}"))
            .unwrap_or_default();
        let title = self
            .title
            .as_ref()
            .map(|title| format!("{title}: "))
            .unwrap_or_default();
        let mut message = self.message.lines();
        let first = message.next().unwrap_or_default();
        std::iter::once(format!("{}{place}: {title}{first}", self.level))
            .chain(message.map(|line| format!("  {line}")))
            .collect()
    }
}

/// The state the runner keeps while a step prints: masks, a pause of the
/// commands, the open group, and the annotations so far.
#[derive(Debug, Default)]
pub struct ActionsLog {
    masks: Vec<String>,
    stop_token: Option<String>,
    in_group: bool,
    annotations: Vec<Annotation>,
}

impl ActionsLog {
    pub fn new() -> ActionsLog {
        ActionsLog::default()
    }

    /// The lines the UI shows for one line the step printed (none for a
    /// command that shows nothing).
    pub fn show(&mut self, printed: &str) -> Vec<String> {
        let shown = self.interpret(printed);
        let indent = if self.in_group { "  " } else { "" };
        shown
            .into_iter()
            .map(|line| match line {
                Shown::Heading(title) => format!("▸ {}", self.mask(&title)),
                Shown::Line(line) => format!("{indent}{}", self.mask(&line)),
            })
            .collect()
    }

    /// The annotations so far, in the order they were made, masked.
    pub fn annotations(&self) -> Vec<Annotation> {
        self.annotations
            .iter()
            .map(|annotation| Annotation {
                message: self.mask(&annotation.message),
                title: annotation.title.as_ref().map(|title| self.mask(title)),
                ..annotation.clone()
            })
            .collect()
    }

    /// `text` with every masked value replaced by `***`; overlapping values
    /// are hidden together.
    pub fn mask(&self, text: &str) -> String {
        let mut hidden = vec![false; text.len()];
        for value in &self.masks {
            for (start, _) in text.match_indices(value.as_str()) {
                hidden[start..start + value.len()].fill(true);
            }
        }
        let mut masked = String::with_capacity(text.len());
        let mut in_mask = false;
        for (index, character) in text.char_indices() {
            if hidden[index] {
                if !in_mask {
                    masked.push_str("***");
                }
                in_mask = true;
            } else {
                masked.push(character);
                in_mask = false;
            }
        }
        masked
    }

    fn interpret(&mut self, printed: &str) -> Vec<Shown> {
        let line = || vec![Shown::Line(printed.to_string())];
        if let Some(token) = &self.stop_token {
            return match parse(printed, Some(token)) {
                Some(command) if command.name == *token => {
                    self.stop_token = None;
                    line()
                }
                _ => line(),
            };
        }
        let Some(command) = parse(printed, None) else {
            return line();
        };
        match command.name.as_str() {
            "stop-commands" => {
                self.stop_token = Some(command.data.to_lowercase());
                line()
            }
            "group" => {
                // The UI does not nest groups: a group ends the one before.
                self.in_group = true;
                vec![Shown::Heading(command.data)]
            }
            "endgroup" => {
                self.in_group = false;
                Vec::new()
            }
            "error" | "warning" | "notice" => self.annotate(command),
            "add-mask" if command.data.trim().is_empty() => {
                vec![Shown::Line(
                    "Warning: Can't add secret mask for empty string in ##[add-mask] command."
                        .to_string(),
                )]
            }
            "add-mask" => {
                self.masks.push(command.data);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn annotate(&mut self, command: Command) -> Vec<Shown> {
        let level = match command.name.as_str() {
            "error" => "Error",
            "warning" => "Warning",
            _ => "Notice",
        };
        let property = |key: &str| {
            command
                .properties
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
        };
        let place = property("file").map(|file| match property("line") {
            Some(line) => format!("{file}#L{line}"),
            None => file,
        });
        let mut lines = command.data.lines();
        let first = lines.next().unwrap_or_default();
        let shown = std::iter::once(Shown::Line(format!("{level}: {first}")))
            .chain(lines.map(|line| Shown::Line(line.to_string())))
            .collect();
        self.annotations.push(Annotation {
            level,
            message: command.data.clone(),
            place,
            title: property("title"),
        });
        shown
    }
}

enum Shown {
    Heading(String),
    Line(String),
}

/// The command on `line`, parsed as the runner parses it: after leading
/// whitespace, `::name[ key=value,…]::data`, with `name` a known command or
/// the token that resumes paused commands.
fn parse(line: &str, resume_token: Option<&str>) -> Option<Command> {
    let rest = line.trim_start().strip_prefix("::")?;
    let end = rest.find("::")?;
    let (info, data) = (&rest[..end], &rest[end + 2..]);
    let (name, properties) = info.split_once(' ').unwrap_or((info, ""));
    let name = name.to_lowercase();
    let known = match resume_token {
        Some(token) => name == token,
        None => COMMANDS.contains(&name.as_str()),
    };
    if !known {
        return None;
    }
    let properties = properties
        .trim()
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_string(), unescape_property(value)))
        .collect();
    Some(Command {
        name,
        properties,
        data: unescape_data(data),
    })
}

/// `%0D`, `%0A` and `%25` in a command's message, in the runner's order,
/// so that `%250A` stays `%0A`.
fn unescape_data(text: &str) -> String {
    text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

fn unescape_property(text: &str) -> String {
    text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line printed, in order, and everything the UI shows for them.
    fn shown(printed: &[&str]) -> Vec<String> {
        let mut log = ActionsLog::new();
        printed.iter().flat_map(|line| log.show(line)).collect()
    }

    #[test]
    fn groups_are_headings_over_their_indented_lines() {
        assert_eq!(
            shown(&[
                "::group::Changes against shop:1 (1 changed)",
                "image of container web: a → b",
                "::endgroup::",
                "Registered shop:2",
                "::group::Deployment",
                "Service shop-web: started",
                "::group::Second",
                "inside the second",
                "::endgroup::",
                "::endgroup::",
                "after",
            ]),
            [
                "▸ Changes against shop:1 (1 changed)",
                "  image of container web: a → b",
                "Registered shop:2",
                "▸ Deployment",
                "  Service shop-web: started",
                "▸ Second",
                "  inside the second",
                "after",
            ]
        );
    }

    #[test]
    fn annotations_are_level_lines_with_their_message_decoded() {
        assert_eq!(
            shown(&[
                "::error::deployment failed: service shop-web",
                "::warning::Preflight: 50%25 checked%0Athe rest was not",
                "::notice::done",
                "  ::error file=task-definition.yaml,line=3,col=5::expected a mapping",
            ]),
            [
                "Error: deployment failed: service shop-web",
                "Warning: Preflight: 50% checked",
                "the rest was not",
                "Notice: done",
                "Error: expected a mapping",
            ]
        );
    }

    #[test]
    fn annotations_keep_their_place_and_title_for_the_runs_page() {
        let mut log = ActionsLog::new();
        for line in [
            "::error file=deploy/task%3Adef%2C1.yaml,line=3,col=5,title=YAML::expected a mapping%0Aat line 3",
            "::warning file=task-definition.json::no line",
            "::notice::done",
        ] {
            log.show(line);
        }
        let lines: Vec<String> = log
            .annotations()
            .iter()
            .flat_map(Annotation::lines)
            .collect();
        assert_eq!(
            lines,
            [
                "Error at deploy/task:def,1.yaml#L3: YAML: expected a mapping",
                "  at line 3",
                "Warning at task-definition.json: no line",
                "Notice: done",
            ]
        );
    }

    #[test]
    fn masked_values_are_hidden_in_every_later_line() {
        assert_eq!(
            shown(&[
                "token ghs_abc before the mask",
                "::add-mask::ghs_abc",
                "token ghs_abc after it, ghs_abcghs_abc twice",
                "::group::Deploying with ghs_abc",
                "::error::denied for ghs_abc",
                "::add-mask::",
                "::add-mask::c gh",
                "ghs_abc gh",
            ]),
            [
                "token ghs_abc before the mask",
                "token *** after it, *** twice",
                "▸ Deploying with ***",
                "  Error: denied for ***",
                "  Warning: Can't add secret mask for empty string in ##[add-mask] command.",
                "  ***",
            ]
        );
    }

    #[test]
    fn a_mask_given_escaped_hides_the_decoded_value() {
        assert_eq!(
            shown(&["::add-mask::50%25 off", "now 50% off", "not 50%25 off"]),
            ["now ***", "not 50%25 off"]
        );
    }

    #[test]
    fn between_stop_commands_and_its_token_lines_are_shown_as_printed() {
        assert_eq!(
            shown(&[
                "::add-mask::secret",
                "::stop-commands::ghadelimiter_AbC",
                "::error::not an error",
                "::group::not a group",
                "::add-mask::not-a-mask",
                "a secret line",
                "::ghadelimiter_abc::",
                "::error::an error",
                "not-a-mask",
            ]),
            [
                "::stop-commands::ghadelimiter_AbC",
                "::error::not an error",
                "::group::not a group",
                "::add-mask::not-a-mask",
                "a *** line",
                "::ghadelimiter_abc::",
                "Error: an error",
                "not-a-mask",
            ]
        );
    }

    #[test]
    fn what_is_no_command_is_shown_as_printed() {
        assert_eq!(
            shown(&[
                "::debug::hidden without step debug",
                "::set-output name=x::hidden",
                "::unknown::shown",
                "%3A:error::escaped by ecs-deploy",
                "::error without an end",
                "arn:aws:iam::123456789012:role/x",
                "50%25 stays in a plain line",
            ]),
            [
                "::unknown::shown",
                "%3A:error::escaped by ecs-deploy",
                "::error without an end",
                "arn:aws:iam::123456789012:role/x",
                "50%25 stays in a plain line",
            ]
        );
    }
}
