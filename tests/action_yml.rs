//! action.yml must declare exactly the inputs and outputs the binary knows,
//! with the same defaults, so that the workflow and the binary never disagree;
//! the README and the recipes must name the action as a release publishes it.

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

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_readme_quick_start_is_the_example_workflow() {
    let readme = read("README.md");
    let quick_start = &readme[readme.find("## Quick start").unwrap()..];
    let block = quick_start
        .split_once("```yaml\n")
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .map(|(block, _)| block)
        .expect("the quick start has a YAML block");
    // The file's header comment says what the recipe is; the README says
    // it in prose.
    let workflow = read("examples/workflows/deploy.yml");
    let without_header: String = workflow
        .lines()
        .skip_while(|line| line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(block, without_header);
}

/// Every `uses:` of ecs-deploy in the README and the recipes names this
/// repository and the major tag the release workflow moves for this
/// version (v0 for 0.x).
#[test]
fn the_docs_name_one_action_and_this_major_version() {
    let expected = format!("ecs-deploy/ecs-deploy@v{}", env!("CARGO_PKG_VERSION_MAJOR"));
    let mut documents = vec![("README.md".to_owned(), read("README.md"))];
    for entry in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/workflows")).unwrap()
    {
        let path = entry.unwrap().path();
        documents.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    let mut named = 0;
    for (document, text) in &documents {
        for line in text.lines() {
            let Some((_, used)) = line.split_once("uses: ") else {
                continue;
            };
            let used = used.split_whitespace().next().unwrap_or_default();
            if used.contains("ecs-deploy@") || used.contains("ecs-deploy/") {
                assert_eq!(used, expected, "{document}: {line}");
                named += 1;
            }
        }
    }
    assert!(named >= documents.len(), "only {named} uses of ecs-deploy");
}
