//! Switching from the official actions is a matter of merging their `with:`
//! blocks: every input and output they have (tests/data/official-actions.txt)
//! must be declared in action.yml, or the runner would warn about an
//! unexpected input and a workflow reading an output would get nothing.

use serde_json::Value;

fn read(relative: &str) -> String {
    let path = format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The (kind, name) lines of the official list; `#` starts a comment.
fn official() -> Vec<(String, String)> {
    read("tests/data/official-actions.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| match line.split_once(' ') {
            Some((kind @ ("input" | "output"), name)) if !name.trim().is_empty() => {
                (kind.to_owned(), name.trim().to_owned())
            }
            _ => panic!("official-actions.txt: `{line}` is not `input NAME` or `output NAME`"),
        })
        .collect()
}

#[test]
fn the_official_list_names_both_actions() {
    let list = official();
    assert!(list.len() >= 50, "{} names", list.len());
    for name in ["run-task-tags", "task-definition-family"] {
        assert!(list.contains(&("input".into(), name.into())), "{name}");
    }
    for name in ["task-definition", "run-task-arn"] {
        assert!(list.contains(&("output".into(), name.into())), "{name}");
    }
}

#[test]
fn action_yml_declares_every_official_input_and_output() {
    let action: Value = serde_yaml_ng::from_str(&read("action.yml")).expect("action.yml");
    let mut missing: Vec<String> = Vec::new();
    for (kind, name) in official() {
        let line = format!("{kind} {name}");
        // task-definition is an input of both actions: name it once.
        if action[format!("{kind}s")].get(&name).is_none() && !missing.contains(&line) {
            missing.push(line);
        }
    }
    assert!(
        missing.is_empty(),
        "action.yml lacks {} of the official actions' names:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
