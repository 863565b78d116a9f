//! Rules of the code's shape (ARCHITECTURE.md) that a test can check. The
//! source is parsed (`syn`), not searched as text, and every module is
//! covered: a module is held to the pure rules unless `EDGES` names it with
//! the reason it may act.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use syn::visit::{self, Visit};

/// The modules that may act: call AWS or GitHub, wait, read the clock or the
/// process environment, touch files, or print. Every other module is pure:
/// it takes small views of what AWS shows and returns plans and verdicts.
const EDGES: &[(&str, &str)] = &[
    ("src/main.rs", "the process entry point"),
    ("src/lib.rs", "declares the modules"),
    ("src/pipeline/mod.rs", "the run: every step, in order"),
    (
        "src/pipeline/release.rs",
        "loads templates, writes the rendered files and registers them",
    ),
    (
        "src/present/",
        "the presenter: every log line, output and the summary file",
    ),
    ("src/env.rs", "reads the process environment once"),
    (
        "src/aws/",
        "every AWS call, one module per service, with its retries",
    ),
    ("src/github.rs", "GitHub deployments and their statuses"),
    ("src/github/api.rs", "the GitHub deployments API"),
    ("src/cancel.rs", "stops what runs when the job is cancelled"),
    ("src/template.rs", "reads templates from files, S3 and ECS"),
    (
        "src/deploy/mod.rs",
        "describes the services and starts the deployments",
    ),
    ("src/deploy/ecs/mod.rs", "watches ECS deployments"),
    (
        "src/deploy/ecs/follow.rs",
        "finds and acts on a deployment started before the step",
    ),
    (
        "src/deploy/codedeploy/follow.rs",
        "finds and acts on a CodeDeploy deployment created before the step",
    ),
    (
        "src/deploy/codedeploy/mod.rs",
        "makes and watches CodeDeploy deployments",
    ),
    ("src/migration/mod.rs", "runs and watches the one-off task"),
    ("src/preflight/mod.rs", "looks up what the definitions need"),
    (
        "src/previous/mod.rs",
        "reads a service's deployment history",
    ),
    ("src/scheduled/mod.rs", "reads and moves scheduled tasks"),
    (
        "src/revisions/mod.rs",
        "reads what the region uses and cleans up revisions",
    ),
    (
        "src/timings/mod.rs",
        "reads the new tasks, events, target groups and images a deploy's time is measured from",
    ),
];

/// Paths whose use makes a module act: clients, waiting, the clock,
/// randomness, files, processes, printing.
fn effect_of_path(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split("::").collect();
    let first = segments.first().copied().unwrap_or_default();
    let has = |name: &str| segments.contains(&name);
    if first == "tokio" || first == "futures" {
        Some("waits (async runtime)")
    } else if first.starts_with("aws_sdk_") && has("Client") || has("LazyAws") || has("Aws") {
        Some("holds an AWS client")
    } else if first == "octocrab" {
        Some("holds a GitHub client")
    } else if path.starts_with("std::env") || path.starts_with("env::") {
        Some("reads the process environment")
    } else if first == "fastrand" {
        Some("draws random numbers")
    } else if path.ends_with("SystemTime::now") || path.ends_with("Instant::now") {
        Some("reads the clock")
    } else if has("fs") && (first == "std" || first == "fs") || has("process") && first == "std" {
        Some("touches files or processes")
    } else if has("Runner") {
        Some("prints (Runner)")
    } else {
        None
    }
}

#[derive(Default)]
struct Effects {
    found: BTreeSet<String>,
}

impl Effects {
    fn add(&mut self, what: impl Into<String>) {
        self.found.insert(what.into());
    }

    fn path(&mut self, path: &str) {
        if let Some(effect) = effect_of_path(path) {
            self.add(format!("{effect}: {path}"));
        }
    }
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// Every path a `use` item brings in, groups expanded.
fn use_paths(tree: &syn::UseTree, prefix: &str, out: &mut Vec<String>) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}::{name}")
        }
    };
    match tree {
        syn::UseTree::Path(p) => use_paths(&p.tree, &join(&p.ident.to_string()), out),
        syn::UseTree::Name(n) => out.push(join(&n.ident.to_string())),
        syn::UseTree::Rename(r) => out.push(join(&r.ident.to_string())),
        syn::UseTree::Glob(_) => out.push(join("*")),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_paths(t, prefix, out)),
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

impl<'ast> Visit<'ast> for Effects {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        if !is_test_only(&module.attrs) {
            visit::visit_item_mod(self, module);
        }
    }

    fn visit_item_fn(&mut self, function: &'ast syn::ItemFn) {
        if function.sig.asyncness.is_some() {
            self.add(format!("waits: async fn {}", function.sig.ident));
        }
        visit::visit_item_fn(self, function);
    }

    fn visit_impl_item_fn(&mut self, function: &'ast syn::ImplItemFn) {
        if function.sig.asyncness.is_some() {
            self.add(format!("waits: async fn {}", function.sig.ident));
        }
        visit::visit_impl_item_fn(self, function);
    }

    fn visit_expr_await(&mut self, expr: &'ast syn::ExprAwait) {
        self.add("waits: .await");
        visit::visit_expr_await(self, expr);
    }

    fn visit_expr_async(&mut self, expr: &'ast syn::ExprAsync) {
        self.add("waits: async block");
        visit::visit_expr_async(self, expr);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if call.method == "send" || call.method == "into_paginator" {
            self.add(format!("calls: .{}()", call.method));
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) {
            if ["print", "println", "eprint", "eprintln", "dbg"].contains(&name.as_str()) {
                self.add(format!("prints: {name}!"));
            }
        }
        visit::visit_macro(self, mac);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.path(&path_text(path));
        visit::visit_path(self, path);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&item.tree, "", &mut paths);
        for path in paths {
            self.path(&path);
        }
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module of the crate, as `src/...` paths.
fn modules() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut modules: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    modules.sort();
    modules
}

fn parse(module: &str) -> syn::File {
    let text = std::fs::read_to_string(root().join(module)).expect(module);
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{module} does not parse: {e}"))
}

fn effects(module: &str) -> BTreeSet<String> {
    let mut effects = Effects::default();
    effects.visit_file(&parse(module));
    effects.found
}

/// Whether `module` is `edge`, or lies under it when it names a folder.
fn is_in(module: &str, edge: &str) -> bool {
    module == edge || edge.ends_with('/') && module.starts_with(edge)
}

/// Decisions are pure: they never hold a client, call AWS, wait, read the
/// clock or draw random numbers, touch files or print, so each is tested on
/// literal values.
#[test]
fn every_module_but_the_edges_is_pure() {
    let mut acting = Vec::new();
    for module in modules() {
        if EDGES.iter().any(|(edge, _)| is_in(&module, edge)) {
            continue;
        }
        for effect in effects(&module) {
            acting.push(format!("{module}: {effect}"));
        }
    }
    assert!(
        acting.is_empty(),
        "modules that act but are not in EDGES (move the effect to an edge, or name the module in EDGES with its reason):\n{}",
        acting.join("\n")
    );
}

/// The effects of `kind` found in the modules outside `allowed_in`.
fn effects_outside(allowed_in: &[&str], kind: &str) -> Vec<String> {
    let mut found = Vec::new();
    for module in modules() {
        if allowed_in.iter().any(|place| is_in(&module, place)) {
            continue;
        }
        for effect in effects(&module) {
            if effect.starts_with(kind) || effect.contains(&format!("({kind})")) {
                found.push(format!("{module}: {effect}"));
            }
        }
    }
    found
}

/// Everything a person sees is written in one place: the steps emit events
/// (`event::Sink`), and only the presenter prints or holds the runner.
#[test]
fn only_the_presenter_prints() {
    let printing = effects_outside(&["src/present/"], "prints");
    assert!(
        printing.is_empty(),
        "printing outside src/present/ (emit an event and word it in the presenter):\n{}",
        printing.join("\n")
    );
}

/// AWS is reached through one typed layer per service in `aws/`, where each
/// call, its paging and its error explanation live once.
#[test]
fn aws_is_called_from_aws_only() {
    let calls = effects_outside(&["src/aws/"], "calls");
    assert!(
        calls.is_empty(),
        "AWS calls outside src/aws/ (move each into the service's module there):\n{}",
        calls.join("\n")
    );
}

/// Functions small enough to read at once: one over `LONGEST` lines does
/// more than one thing.
#[test]
fn no_function_is_longer_than_80_lines() {
    const LONGEST: usize = 80;
    let mut long = Vec::new();
    for module in modules() {
        let mut lengths = FunctionLengths::default();
        lengths.visit_file(&parse(&module));
        for (name, lines) in lengths.0 {
            if lines > LONGEST {
                long.push(format!("{module}: {name} ({lines} lines)"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {LONGEST} lines (split them by what each part means):\n{}",
        long.join("\n")
    );
}

/// Each function's name and its lines from `fn` to its closing brace,
/// tests left out.
#[derive(Default)]
struct FunctionLengths(Vec<(String, usize)>);

impl FunctionLengths {
    fn add(&mut self, name: &syn::Ident, first: proc_macro2::Span, block: &syn::Block) {
        let last = block.brace_token.span.close().end().line;
        self.0
            .push((name.to_string(), last + 1 - first.start().line));
    }
}

impl<'ast> Visit<'ast> for FunctionLengths {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        if !is_test_only(&module.attrs) {
            visit::visit_item_mod(self, module);
        }
    }

    fn visit_item_fn(&mut self, function: &'ast syn::ItemFn) {
        self.add(
            &function.sig.ident,
            function.sig.fn_token.span,
            &function.block,
        );
        visit::visit_item_fn(self, function);
    }

    fn visit_impl_item_fn(&mut self, function: &'ast syn::ImplItemFn) {
        self.add(
            &function.sig.ident,
            function.sig.fn_token.span,
            &function.block,
        );
        visit::visit_impl_item_fn(self, function);
    }
}

/// An edge that no longer acts is pure and leaves the list.
#[test]
fn every_edge_acts_and_exists() {
    let modules = modules();
    for (edge, why) in EDGES {
        let covered: Vec<&String> = modules.iter().filter(|m| is_in(m, edge)).collect();
        assert!(!covered.is_empty(), "{edge} is in EDGES but does not exist");
        if *edge != "src/lib.rs" {
            assert!(
                covered.iter().any(|module| !effects(module).is_empty()),
                "{edge} is in EDGES ({why}) but does nothing a pure module may not"
            );
        }
    }
}

/// The effects the rules look for are found where they are: a check that
/// the visitor sees through groups and into functions.
#[test]
fn the_rules_see_effects_in_every_form() {
    let file: syn::File = syn::parse_quote! {
        use crate::{config::Config, aws::LazyAws};
        fn decide() -> u32 {
            let _now = std::time::SystemTime::now();
            println!("x");
            fastrand::u32(..)
        }
        async fn call(client: &aws_sdk_ecs::Client) {
            client.describe_services().send().await;
        }
        #[cfg(test)]
        mod tests {
            fn in_a_test() { println!("allowed"); }
        }
    };
    let mut effects = Effects::default();
    effects.visit_file(&file);
    assert_eq!(
        effects.found.into_iter().collect::<Vec<_>>(),
        [
            "calls: .send()",
            "draws random numbers: fastrand::u32",
            "holds an AWS client: aws_sdk_ecs::Client",
            "holds an AWS client: crate::aws::LazyAws",
            "prints: println!",
            "reads the clock: std::time::SystemTime::now",
            "waits: .await",
            "waits: async fn call",
        ]
    );
}

/// What `config` is built from never depends on `config` (no module cycle).
#[test]
fn configs_parts_do_not_import_config() {
    for module in modules() {
        let is_part = module.ends_with("/settings.rs")
            || ["src/inputs.rs", "src/template.rs", "src/render.rs"].contains(&module.as_str());
        if !is_part {
            continue;
        }
        let file = parse(&module);
        for item in &file.items {
            let syn::Item::Use(item) = item else { continue };
            let mut paths = Vec::new();
            use_paths(&item.tree, "", &mut paths);
            for path in paths {
                assert!(
                    !path.starts_with("crate::config"),
                    "{module} imports {path}"
                );
            }
        }
    }
}
