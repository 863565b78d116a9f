//! Rules of the code's shape (ARCHITECTURE.md) that a test can check.

use std::path::Path;

/// Decisions are pure: they take small views of what AWS shows and return
/// plans and verdicts, so they never hold a client, call AWS or wait.
const PURE_MODULES: &[&str] = &[
    "src/render.rs",
    "src/diff.rs",
    "src/deploy/ecs/verdict.rs",
    "src/deploy/ecs/view.rs",
    "src/deploy/codedeploy/verdict.rs",
    "src/deploy/codedeploy/appspec.rs",
    "src/migration/plan.rs",
    "src/migration/verdict.rs",
    "src/preflight/references.rs",
    "src/preflight/verdict.rs",
    "src/scheduled/plan.rs",
    "src/revisions/plan.rs",
    "src/previous/choice.rs",
    "src/deploy/express.rs",
];

const EFFECTS: &[&str] = &["Client", ".send()", "LazyAws", "async ", ".await", "tokio"];

#[test]
fn pure_modules_hold_no_client_and_make_no_call() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for module in PURE_MODULES {
        let text = std::fs::read_to_string(root.join(module)).expect(module);
        for (number, line) in text.lines().enumerate() {
            for effect in EFFECTS {
                assert!(
                    !line.contains(effect),
                    "{module}:{}: {effect} in a pure module: {line}",
                    number + 1
                );
            }
        }
    }
}

/// What `config` is built from never depends on `config` (no module cycle).
#[test]
fn configs_parts_do_not_import_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for module in [
        "src/inputs.rs",
        "src/template.rs",
        "src/render.rs",
        "src/render/settings.rs",
        "src/deploy/settings.rs",
        "src/migration/settings.rs",
        "src/revisions/settings.rs",
        "src/github/settings.rs",
    ] {
        let text = std::fs::read_to_string(root.join(module)).expect(module);
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        assert!(!code.contains("crate::config"), "{module} imports config");
    }
}
