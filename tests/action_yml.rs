//! action.yml must declare exactly the inputs and outputs the binary knows,
//! with the same defaults, so that the workflow and the binary never disagree.

use ecs_deploy::inputs::{InputDefault, INPUTS, OUTPUTS};
use serde_json::Value;

fn action() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

#[test]
fn inputs_match_the_input_table() {
    let action = action();
    let declared = action["inputs"].as_object().unwrap();
    let names: Vec<&str> = declared.keys().map(String::as_str).collect();
    let known: Vec<&str> = INPUTS.iter().map(|spec| spec.name).collect();
    assert_eq!(names, known, "action.yml inputs (in order)");
    for spec in INPUTS {
        let input = &declared[spec.name];
        let default = input["default"].as_str();
        let expected = match spec.default {
            InputDefault::None => None,
            InputDefault::Value(value) | InputDefault::Expression(value) => Some(value),
        };
        assert_eq!(default, expected, "default of {}", spec.name);
        assert_eq!(
            input["description"].as_str(),
            Some(spec.description),
            "description of {}",
            spec.name
        );
        assert_eq!(
            input["required"],
            Value::Bool(false),
            "{} must not be required: the binary checks",
            spec.name
        );
    }
}

#[test]
fn outputs_match_the_output_table() {
    let action = action();
    let declared = action["outputs"].as_object().unwrap();
    let names: Vec<&str> = declared.keys().map(String::as_str).collect();
    let known: Vec<&str> = OUTPUTS.iter().map(|spec| spec.name).collect();
    assert_eq!(names, known);
    for spec in OUTPUTS {
        assert_eq!(
            declared[spec.name]["description"].as_str(),
            Some(spec.description)
        );
    }
}

#[test]
fn runs_a_prebuilt_image() {
    let action = action();
    assert_eq!(action["runs"]["using"], "docker");
    let image = action["runs"]["image"].as_str().unwrap();
    assert!(image.starts_with("docker://ghcr.io/"), "{image}");
    // On the branch: this version's tag, which the release workflow checks
    // against the pushed tag. In a release commit: the image's digest.
    let by_version = image.ends_with(&format!(":v{}", env!("CARGO_PKG_VERSION")));
    let by_digest = image
        .rsplit_once("@sha256:")
        .is_some_and(|(_, hex)| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(
        by_version || by_digest,
        "{image} names neither v{} nor a digest",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn the_readme_documents_every_input_and_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for name in INPUTS
        .iter()
        .map(|s| s.name)
        .chain(OUTPUTS.iter().map(|s| s.name))
    {
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "README lacks a row for {name}"
        );
    }
}
