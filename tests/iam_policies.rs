//! examples/iam/ holds one IAM policy per feature; this test keeps each
//! policy's actions equal to what the code calls for that feature, so a
//! policy neither lacks a permission the code needs nor grants one it never
//! uses. Resources and conditions are scoped by hand; only actions are
//! compared.
//!
//!     cargo test --test it iam_policies
//!     UPDATE_POLICIES=1 cargo test --test it iam_policies
//!
//! The second removes what the code no longer calls and adds what it newly
//! calls to a statement `NotYetScoped` on every resource, to be scoped by
//! hand and reviewed.
//!
//! Where the actions come from:
//! - Every AWS request in `src/` is an SDK fluent builder, sent with
//!   `.send()` or turned into a paginator with `.into_paginator()`; the raw
//!   JSON calls (`aws::raw`) are the same builders, customized before they
//!   are sent. The method that starts the chain on a client names the
//!   operation (`ecs.describe_services()` → `describe_services`).
//! - The SDK crates the package depends on (`cargo metadata`) say which
//!   service has that operation, its name (`DescribeServices`, from its
//!   module) and the service's signing name, which is its IAM prefix
//!   (`ecs`, `logs`, `events`). HeadObject is authorized as s3:GetObject.
//! - What an action needs allowed beyond itself (iam:PassRole for a
//!   definition with roles, ecs:TagResource for one with tags, what
//!   CodeDeploy checks on CreateDeployment) is read from the remedies'
//!   table `PERMISSIONS` in src/aws/errors.rs, the one place the product
//!   says it; `ALSO_GRANTED` holds the rest, each with its reason.
//!
//! Which feature a call belongs to:
//! - The module it is in (`MODULES`): src/deploy/codedeploy → codedeploy,
//!   src/migration → migration, src/previous → rollback (`task-definition:
//!   previous`), and so on; the pipeline, templates, the rest of src/deploy
//!   and the cancellation → deploy, the base every run needs.
//! - A helper that serves other modules (everything in src/aws/, and
//!   `SERVES_ITS_CALLERS`) belongs to the features of the functions that
//!   call it, followed through helpers that call helpers; what such a
//!   helper calls inherits its callers' features too. Callers are found by
//!   the paths that name the helper (`ecs::register_task_definition`, an
//!   imported `describe_task_definition`, `LogTail::new`).
//! - The few calls whose module serves several features are named in
//!   `BY_OPERATION` (the cancellation's stops, Express inside the ECS
//!   deploy); an entry the code no longer needs fails the test.
//! - A feature that uses another feature's function which calls AWS fails
//!   the test until the function is named in `SERVES_ITS_CALLERS`, since
//!   its calls would otherwise be granted to the other feature only.
//!
//! `SHOW_CALLS=1 cargo test --test it iam_policies -- --nocapture` prints,
//! per feature, each action and the functions that call it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use syn::punctuated::Punctuated;
use syn::visit::Visit;

/// The policies, each examples/iam/<feature>.json.
const FEATURES: &[&str] = &[
    "deploy",
    "migration",
    "codedeploy",
    "preflight",
    "scheduled-tasks",
    "cleanup",
    "rollback",
    "express",
    "timings",
];

/// Source path prefix → feature; the longest prefix wins. src/aws/ is
/// absent on purpose: its helpers serve their callers.
const MODULES: &[(&str, &str)] = &[
    ("src/deploy/", "deploy"),
    ("src/deploy/codedeploy/", "codedeploy"),
    ("src/pipeline/", "deploy"),
    ("src/template.rs", "deploy"),
    ("src/cancel.rs", "deploy"),
    ("src/migration/", "migration"),
    ("src/preflight/", "preflight"),
    ("src/scheduled/", "scheduled-tasks"),
    ("src/revisions/", "cleanup"),
    ("src/previous/", "rollback"),
    ("src/timings/", "timings"),
];

/// Functions outside src/aws/ that other features call for their own ends:
/// (file, function).
const SERVES_ITS_CALLERS: &[(&str, &str)] = &[
    // What every bus's rules and every schedule run, for the old revisions.
    ("src/scheduled/mod.rs", "task_definitions_in_region"),
];

/// Calls that belong to other features than their callers':
/// (file, IAM action, features).
const BY_OPERATION: &[(&str, &str, &[&str])] = &[
    (
        "src/aws/ecs.rs",
        "ecs:UpdateExpressGatewayService",
        &["express"],
    ),
    (
        "src/aws/ecs.rs",
        "ecs:DescribeExpressGatewayService",
        &["express"],
    ),
    // Only migration tasks are ever stopped, and only CodeDeploy
    // deployments, whichever step stops them (the migration, a CodeDeploy
    // timeout, the cancellation).
    ("src/aws/ecs.rs", "ecs:StopTask", &["migration"]),
    (
        "src/aws/codedeploy.rs",
        "codedeploy:StopDeployment",
        &["codedeploy"],
    ),
    // `previous` reads a group's successful deployments; the cancellation
    // lists a group's deployments only when a CreateDeployment was under way.
    (
        "src/aws/codedeploy.rs",
        "codedeploy:ListDeployments",
        &["rollback", "codedeploy"],
    ),
];

/// Operations IAM authorizes under another action's name.
const AUTHORIZED_AS: &[(&str, &str)] = &[("s3:HeadObject", "s3:GetObject")];

/// Granted although the code never calls them: (feature, action, why).
const ALSO_GRANTED: &[(&str, &str, &str)] = &[
    (
        "preflight",
        "s3:ListBucket",
        "HeadObject answers 404 for a missing environment file only with it (403 without), so the file is reported missing instead of unchecked",
    ),
    (
        "migration",
        "ecs:TagResource",
        "RunTask with run-task-tags tags the task as it creates it",
    ),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------
// The SDK: operation name → IAM action.

/// snake_case operation → IAM actions of the SDK crates that have it.
fn sdk_operations() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // This platform's packages only: the build downloaded those, and
    // --offline cannot fetch the manifests of other platforms' crates.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    let version = String::from_utf8(version.stdout).expect("rustc -vV is text");
    let host = version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", host])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == "ecs-deploy")
        .expect("the ecs-deploy package");
    let sdk_crates: BTreeSet<&str> = ours["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .filter(|d| d["kind"].is_null())
        .filter_map(|d| d["name"].as_str())
        .filter(|name| name.starts_with("aws-sdk-"))
        .collect();
    let mut operations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in packages {
        let name = package["name"].as_str().unwrap_or_default();
        if !sdk_crates.contains(name) {
            continue;
        }
        let manifest = PathBuf::from(package["manifest_path"].as_str().expect("manifest_path"));
        let src = manifest.parent().expect("crate directory").join("src");
        let prefix = signing_name(&src.join("config.rs"));
        for entry in std::fs::read_dir(src.join("operation")).expect("the crate's operations") {
            let path = entry.expect("directory entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let operation = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("operation module");
            let Some(pascal) = text
                .lines()
                .find_map(|line| line.strip_prefix("pub struct ")?.strip_suffix(';'))
            else {
                continue;
            };
            operations
                .entry(operation)
                .or_default()
                .push(format!("{prefix}:{pascal}"));
        }
    }
    assert!(
        operations.contains_key("describe_services"),
        "no SDK operations found in {sdk_crates:?}"
    );
    operations
}

/// The service's signing name, its IAM prefix.
fn signing_name(config: &Path) -> String {
    let text = std::fs::read_to_string(config).expect("the crate's config.rs");
    let marker = "SigningName::from_static(\"";
    let start = text.find(marker).expect("a signing name") + marker.len();
    text[start..].split('"').next().unwrap().to_owned()
}

// ---------------------------------------------------------------------------
// The source: functions, the AWS calls each makes, and who calls whom.

/// A function of the source: a free function by its name, the methods of a
/// type together by the type's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Unit {
    file: String,
    name: String,
}

#[derive(Default)]
struct Source {
    /// What each unit calls directly: snake_case operations.
    calls: BTreeMap<Unit, BTreeSet<String>>,
    /// The paths each unit names (to find callers), as segments.
    paths: BTreeMap<Unit, Vec<Vec<String>>>,
    /// Per file, what its `use` items import, as segments.
    imports: BTreeMap<String, Vec<Vec<String>>>,
    /// IAM actions named as string literals outside tests, with their file.
    named_actions: BTreeSet<(String, String)>,
    /// Sends this test cannot read, with their place.
    unreadable: Vec<String>,
}

fn read_source() -> Source {
    let mut source = Source::default();
    let mut files = Vec::new();
    collect_rs(&root().join("src"), &mut files);
    for path in files {
        let file = path
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&path).unwrap();
        let syntax = syn::parse_file(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut imports = Vec::new();
        for item in &syntax.items {
            read_item(&mut source, &file, item, &mut imports);
        }
        source.imports.insert(file, imports);
    }
    source
}

fn collect_rs(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

fn read_item(source: &mut Source, file: &str, item: &syn::Item, imports: &mut Vec<Vec<String>>) {
    match item {
        syn::Item::Fn(f) if !is_test_only(&f.attrs) => {
            read_unit(source, file, &f.sig.ident.to_string(), |v| {
                v.visit_item_fn(f)
            });
        }
        syn::Item::Impl(i) if !is_test_only(&i.attrs) => {
            let syn::Type::Path(ty) = &*i.self_ty else {
                return;
            };
            let name = ty.path.segments.last().unwrap().ident.to_string();
            read_unit(source, file, &name, |v| v.visit_item_impl(i));
        }
        syn::Item::Const(c) => read_unit(source, file, &c.ident.to_string(), |v| {
            v.visit_item_const(c)
        }),
        syn::Item::Static(s) => read_unit(source, file, &s.ident.to_string(), |v| {
            v.visit_item_static(s)
        }),
        syn::Item::Mod(m) if !is_test_only(&m.attrs) => {
            for item in m.content.iter().flat_map(|(_, items)| items) {
                read_item(source, file, item, imports);
            }
        }
        syn::Item::Use(u) => use_paths(&u.tree, &mut Vec::new(), imports),
        _ => {}
    }
}

fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push([prefix.clone(), vec![n.ident.to_string()]].concat()),
        syn::UseTree::Rename(r) => out.push([prefix.clone(), vec![r.ident.to_string()]].concat()),
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_paths(t, prefix, out)),
    }
}

fn read_unit(source: &mut Source, file: &str, name: &str, visit: impl FnOnce(&mut UnitVisitor)) {
    let mut visitor = UnitVisitor::default();
    visit(&mut visitor);
    let unit = Unit {
        file: file.to_owned(),
        name: name.to_owned(),
    };
    source
        .calls
        .entry(unit.clone())
        .or_default()
        .extend(visitor.calls);
    source.paths.entry(unit).or_default().extend(visitor.paths);
    source
        .named_actions
        .extend(visitor.actions.into_iter().map(|a| (a, file.to_owned())));
    source.unreadable.extend(
        visitor
            .unreadable
            .into_iter()
            .map(|what| format!("{file} ({name}): {what}")),
    );
}

#[derive(Default)]
struct UnitVisitor {
    /// Local variables holding a builder (`let mut request =
    /// ecs.update_service()…`), by name: the operation it starts.
    builders: BTreeMap<String, String>,
    calls: BTreeSet<String>,
    paths: Vec<Vec<String>>,
    actions: BTreeSet<String>,
    unreadable: Vec<String>,
}

impl<'ast> Visit<'ast> for UnitVisitor {
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        if (method == "send" && call.args.is_empty()) || method == "into_paginator" {
            match self.operation_of(&call.receiver) {
                Some(operation) => {
                    self.calls.insert(operation);
                }
                None => self.unreadable.push(format!(
                    ".{method}() on `{}`, not on a chain that starts with an operation",
                    quote_expr(&call.receiver)
                )),
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let (syn::Pat::Ident(name), Some(init)) = (&local.pat, &local.init) {
            if let Some(operation) = self.operation_of(&init.expr) {
                self.builders.insert(name.ident.to_string(), operation);
            }
        }
        syn::visit::visit_local(self, local);
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        if let syn::Item::Mod(m) = item {
            if is_test_only(&m.attrs) {
                return;
            }
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.paths
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }

    fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
        let value = literal.value();
        if is_iam_action(&value) {
            self.actions.insert(value);
        }
    }

    /// Macro bodies are not syntax trees to `syn`: a body of expressions
    /// (`anyhow!`, `format!`, `vec!`, `join!`) is read as such; a request
    /// inside any other is reported rather than missed.
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        match mac.parse_body_with(parser) {
            Ok(exprs) => exprs.iter().for_each(|e| self.visit_expr(e)),
            Err(_) => {
                let tokens = mac.tokens.to_string();
                if tokens.contains("send ()") || tokens.contains("into_paginator") {
                    self.unreadable
                        .push(format!("a request inside {}!", quote_path(&mac.path)));
                }
            }
        }
    }
}

impl UnitVisitor {
    /// The operation a builder chain starts with: the innermost method
    /// call, or the builder held by the variable the chain starts from.
    fn operation_of(&self, mut expr: &syn::Expr) -> Option<String> {
        let mut operation = None;
        loop {
            match expr {
                syn::Expr::MethodCall(call) => {
                    operation = Some(call.method.to_string());
                    expr = &call.receiver;
                }
                syn::Expr::Paren(p) => expr = &p.expr,
                syn::Expr::Path(p) => {
                    let held = p
                        .path
                        .get_ident()
                        .and_then(|i| self.builders.get(&i.to_string()));
                    return held.cloned().or(operation);
                }
                _ => return operation,
            }
        }
    }
}

fn quote_expr(expr: &syn::Expr) -> String {
    match expr {
        syn::Expr::Path(p) => quote_path(&p.path),
        _ => "an expression".to_owned(),
    }
}

fn quote_path(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

fn is_iam_action(text: &str) -> bool {
    let Some((prefix, name)) = text.split_once(':') else {
        return false;
    };
    !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

// ---------------------------------------------------------------------------
// Features.

/// The name a file is reached by: `src/aws/ecs.rs` → `ecs`,
/// `src/scheduled/mod.rs` → `scheduled`.
fn module_name(file: &str) -> &str {
    let file = file.strip_suffix("/mod.rs").unwrap_or(file);
    let file = file.strip_suffix(".rs").unwrap_or(file);
    file.rsplit('/').next().unwrap()
}

fn module_feature(file: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .filter(|(prefix, _)| file.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, feature)| *feature)
}

fn serves_its_callers(unit: &Unit) -> bool {
    unit.file.starts_with("src/aws/")
        || SERVES_ITS_CALLERS
            .iter()
            .any(|(file, name)| unit.file == *file && unit.name == *name)
}

impl Source {
    /// Whether `caller` names `callee`: by a path through its module
    /// (`ecs::describe_services`, `crate::aws::logs::LogTail`), or by its
    /// bare name in the same file or where the file imports it.
    fn names(&self, caller: &Unit, callee: &Unit) -> bool {
        let module = module_name(&callee.file);
        let imported = || {
            self.imports[&caller.file]
                .iter()
                .any(|import| import.ends_with(&[module.to_owned(), callee.name.clone()]))
        };
        self.paths[caller].iter().any(|path| {
            path.iter().enumerate().any(|(i, segment)| {
                *segment == callee.name
                    && match i {
                        0 => caller.file == callee.file || imported(),
                        _ => path[i - 1] == module,
                    }
            })
        })
    }

    fn callers(&self, callee: &Unit) -> Vec<&Unit> {
        self.paths
            .keys()
            .filter(|caller| *caller != callee && self.names(caller, callee))
            .collect()
    }

    /// The features a unit's calls serve: its module's, unless it serves its
    /// callers; and those of every caller that serves its own callers.
    fn features(&self, unit: &Unit, seen: &mut BTreeSet<Unit>) -> BTreeSet<&'static str> {
        let mut features = BTreeSet::new();
        if !seen.insert(unit.clone()) {
            return features;
        }
        let serves = serves_its_callers(unit);
        if !serves {
            features.extend(module_feature(&unit.file));
        }
        for caller in self.callers(unit) {
            if serves || serves_its_callers(caller) {
                features.extend(self.features(caller, seen));
            }
        }
        seen.remove(unit);
        features
    }
}

impl Source {
    /// Whether `unit` makes an AWS call, itself or through what it names.
    fn reaches_aws(&self, unit: &Unit, seen: &mut BTreeSet<Unit>) -> bool {
        if !self.calls[unit].is_empty() {
            return true;
        }
        seen.insert(unit.clone());
        let callees: Vec<&Unit> = self
            .paths
            .keys()
            .filter(|callee| !seen.contains(*callee) && self.names(unit, callee))
            .collect();
        callees
            .into_iter()
            .any(|callee| self.reaches_aws(callee, seen))
    }

    /// A feature's module that uses a function of another feature's module
    /// which makes AWS calls: those calls would be granted to the other
    /// feature only. The pipeline and the rest of `deploy` run every
    /// feature's steps, so their calls into a feature enter it; and
    /// `deploy.json` is part of every run, so what other features use of
    /// deploy's modules (templates, the record of what is in flight) is
    /// granted there.
    fn borrowed_calls(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for callee in self.paths.keys().filter(|u| !serves_its_callers(u)) {
            let Some(feature) = module_feature(&callee.file) else {
                continue;
            };
            if feature == "deploy" {
                continue;
            }
            for caller in self.callers(callee) {
                let by = module_feature(&caller.file);
                if serves_its_callers(caller) || by.is_none_or(|by| by == feature || by == "deploy")
                {
                    continue;
                }
                if self.reaches_aws(callee, &mut BTreeSet::new()) {
                    problems.push(format!(
                        "{} ({}) uses {} ({}) of {feature}, which calls AWS: add it to SERVES_ITS_CALLERS",
                        caller.file, caller.name, callee.file, callee.name
                    ));
                }
            }
        }
        problems
    }
}

/// Per feature, each action the code calls for it, with the places
/// (`file (function)`) that call it.
type Calls = BTreeMap<&'static str, BTreeMap<String, BTreeSet<String>>>;

fn calls_by_feature(source: &Source, operations: &BTreeMap<String, Vec<String>>) -> Calls {
    let mut problems = source.unreadable.clone();
    problems.extend(source.borrowed_calls());
    let mut calls: Calls = BTreeMap::new();
    let mut overrides_used = BTreeSet::new();
    for (unit, called) in &source.calls {
        if called.is_empty() {
            continue;
        }
        let features = source.features(unit, &mut BTreeSet::new());
        let place = format!("{} ({})", unit.file, unit.name);
        for operation in called {
            let action = match operations.get(operation).map(Vec::as_slice) {
                Some([action]) => action.clone(),
                Some(actions) => {
                    problems.push(format!("{place}: {operation} is one of {actions:?}"));
                    continue;
                }
                None => {
                    problems.push(format!(
                        "{place}: {operation} is no operation of the SDK crates"
                    ));
                    continue;
                }
            };
            let action = AUTHORIZED_AS
                .iter()
                .find(|(called, _)| *called == action)
                .map_or(action, |(_, authorized)| (*authorized).to_owned());
            let overridden = BY_OPERATION
                .iter()
                .find(|(file, a, _)| unit.file == *file && action == *a);
            let features = match overridden {
                Some(entry) => {
                    overrides_used.insert(*entry);
                    entry.2.iter().copied().collect()
                }
                None => features.clone(),
            };
            if features.is_empty() {
                problems.push(format!(
                    "{place}: calls {action}, but no feature reaches it (add its module to MODULES)"
                ));
            }
            for feature in features {
                calls
                    .entry(feature)
                    .or_default()
                    .entry(action.clone())
                    .or_default()
                    .insert(place.clone());
            }
        }
    }
    for entry in BY_OPERATION {
        if !overrides_used.contains(entry) {
            problems.push(format!("BY_OPERATION {entry:?} matches no call any more"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    calls
}

/// What an action needs allowed beyond itself, from the remedies' table.
fn dependent_actions() -> BTreeMap<String, BTreeSet<String>> {
    let path = root().join("src/aws/errors.rs");
    let syntax = syn::parse_file(&std::fs::read_to_string(path).unwrap()).unwrap();
    let table = syntax
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Const(c) if c.ident == "PERMISSIONS" => Some(&c.expr),
            _ => None,
        })
        .expect("PERMISSIONS in src/aws/errors.rs");
    let syn::Expr::Reference(reference) = &**table else {
        panic!("PERMISSIONS is a slice of pairs");
    };
    let syn::Expr::Array(rows) = &*reference.expr else {
        panic!("PERMISSIONS is a slice of pairs");
    };
    let literal = |e: &syn::Expr| match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => s.value(),
        _ => panic!("PERMISSIONS holds string literals"),
    };
    rows.elems
        .iter()
        .map(|row| {
            let syn::Expr::Tuple(pair) = row else {
                panic!("PERMISSIONS is a slice of pairs");
            };
            let action = literal(&pair.elems[0]);
            let text = literal(&pair.elems[1]);
            let needs = text
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|word| is_iam_action(word) && *word != action)
                .map(str::to_owned)
                .collect();
            (action, needs)
        })
        .collect()
}

/// Per feature, every action its policy must grant, and where the code
/// calls those it calls.
fn expected() -> (BTreeMap<&'static str, BTreeSet<String>>, Calls) {
    let source = read_source();
    let calls = calls_by_feature(&source, &sdk_operations());
    let dependents = dependent_actions();
    let mut expected: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for feature in FEATURES {
        let called = calls.get(feature).cloned().unwrap_or_default();
        let actions = expected.entry(feature).or_default();
        for action in called.keys() {
            actions.insert(action.clone());
            actions.extend(dependents.get(action).into_iter().flatten().cloned());
        }
    }
    for (feature, action, _) in ALSO_GRANTED {
        expected
            .get_mut(feature)
            .unwrap()
            .insert((*action).to_owned());
    }
    let unknown: Vec<&str> = calls
        .keys()
        .filter(|f| !FEATURES.contains(f))
        .copied()
        .collect();
    assert!(unknown.is_empty(), "features without a policy: {unknown:?}");
    (expected, calls)
}

// ---------------------------------------------------------------------------
// The policies.

fn policy_path(feature: &str) -> PathBuf {
    root().join("examples/iam").join(format!("{feature}.json"))
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().expect("a list of strings").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

fn granted(policy: &Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|statement| strings(&statement["Action"]))
        .collect()
}

/// The problems that keep `policy` from being a policy document IAM takes.
fn document_problems(policy: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if policy["Version"] != "2012-10-17" {
        problems.push("Version is not \"2012-10-17\"".to_owned());
    }
    let Some(statements) = policy["Statement"].as_array().filter(|s| !s.is_empty()) else {
        problems.push("no Statement list".to_owned());
        return problems;
    };
    let mut sids = BTreeSet::new();
    for (i, statement) in statements.iter().enumerate() {
        let at = |what: &str| format!("Statement {i}: {what}");
        let Some(object) = statement.as_object() else {
            problems.push(at("not an object"));
            continue;
        };
        for key in object.keys() {
            if !["Sid", "Effect", "Action", "Resource", "Condition"].contains(&key.as_str()) {
                problems.push(at(&format!("unexpected key {key}")));
            }
        }
        if statement["Effect"] != "Allow" {
            problems.push(at("Effect is not Allow"));
        }
        let actions = strings(&statement["Action"]);
        if actions.is_empty() || actions.iter().any(|a| !is_iam_action(a)) {
            problems.push(at("Action is not a list of service:Action names"));
        }
        let resources = strings(&statement["Resource"]);
        if resources.is_empty()
            || resources
                .iter()
                .any(|r| r != "*" && !r.starts_with("arn:aws:"))
        {
            problems.push(at("Resource is not \"*\" or ARNs"));
        }
        if let Some(sid) = statement["Sid"].as_str() {
            if !sid.chars().all(|c| c.is_ascii_alphanumeric()) || !sids.insert(sid.to_owned()) {
                problems.push(at("Sid is not unique and alphanumeric"));
            }
        }
        if !statement["Condition"].is_null() && !statement["Condition"].is_object() {
            problems.push(at("Condition is not an object"));
        }
    }
    problems
}

/// `policy` with only `expected` actions: those it no longer needs taken
/// out (a statement left without any goes), the new ones added to
/// `NotYetScoped`, on every resource until scoped by hand.
fn updated(policy: Option<Value>, expected: &BTreeSet<String>) -> Value {
    let mut policy = policy.unwrap_or_else(|| json!({"Version": "2012-10-17", "Statement": []}));
    let granted = granted(&policy);
    let statements = policy["Statement"]
        .as_array_mut()
        .expect("a Statement list");
    for statement in statements.iter_mut() {
        let kept: Vec<String> = strings(&statement["Action"])
            .into_iter()
            .filter(|a| expected.contains(a))
            .collect();
        statement["Action"] = json!(kept);
    }
    statements.retain(|s| !strings(&s["Action"]).is_empty());
    let new: Vec<&String> = expected.iter().filter(|a| !granted.contains(*a)).collect();
    if !new.is_empty() {
        match statements.iter_mut().find(|s| s["Sid"] == "NotYetScoped") {
            Some(statement) => {
                let mut actions = strings(&statement["Action"]);
                actions.extend(new.into_iter().cloned());
                actions.sort();
                statement["Action"] = json!(actions);
            }
            None => statements.push(json!({
                "Sid": "NotYetScoped",
                "Effect": "Allow",
                "Action": new,
                "Resource": "*",
            })),
        }
    }
    policy
}

fn read_policy(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[test]
fn each_policy_grants_what_its_feature_calls_and_nothing_else() {
    let update = std::env::var_os("UPDATE_POLICIES").is_some_and(|v| v == "1");
    let mut differences = Vec::new();
    let (expected, calls) = expected();
    if std::env::var_os("SHOW_CALLS").is_some() {
        eprintln!("{calls:#?}");
    }
    for (feature, expected) in expected {
        let path = policy_path(feature);
        let policy = read_policy(&path);
        let granted = policy.as_ref().map(granted).unwrap_or_default();
        if granted == expected {
            continue;
        }
        if update {
            let text = serde_json::to_string_pretty(&updated(policy, &expected)).unwrap();
            std::fs::write(&path, text + "\n").unwrap();
            continue;
        }
        let mut difference = format!("examples/iam/{feature}.json");
        for missing in expected.difference(&granted) {
            let places = calls[feature].get(missing).map_or_else(
                || "needed by another action".to_owned(),
                |places| places.iter().cloned().collect::<Vec<_>>().join(", "),
            );
            difference.push_str(&format!("\n  + {missing} (called in {places})"));
        }
        for extra in granted.difference(&expected) {
            difference.push_str(&format!("\n  - {extra} (never called)"));
        }
        differences.push(difference);
    }
    assert!(
        differences.is_empty(),
        "the policies differ from what the code calls; UPDATE_POLICIES=1 rewrites their actions \
         (new ones unscoped, in NotYetScoped), then scope them by hand:\n{}",
        differences.join("\n")
    );
}

/// Each file is a policy IAM takes, scoped by hand, and statement ids are
/// unique across them, so that any of them merge into one policy.
#[test]
fn each_policy_is_a_policy_document() {
    let mut sids = BTreeMap::new();
    for feature in FEATURES {
        let path = policy_path(feature);
        let policy = read_policy(&path).unwrap_or_else(|| panic!("{} is missing", path.display()));
        let problems = document_problems(&policy);
        assert!(problems.is_empty(), "{}: {problems:?}", path.display());
        let unscoped: Vec<&Value> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Sid"] == "NotYetScoped")
            .collect();
        assert!(
            unscoped.is_empty(),
            "{}: scope NotYetScoped by hand",
            path.display()
        );
        for sid in policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str())
        {
            if let Some(other) = sids.insert(sid.to_owned(), feature) {
                panic!("Sid {sid} is in both {other}.json and {feature}.json");
            }
        }
    }
}

#[test]
fn examples_iam_holds_the_policies_and_their_readme() {
    let mut names: Vec<String> = std::fs::read_dir(root().join("examples/iam"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = FEATURES.iter().map(|f| format!("{f}.json")).collect();
    expected.extend(["README.md".to_owned(), "github-permissions.yml".to_owned()]);
    expected.sort();
    assert_eq!(names, expected);
}

/// The README's table lists each policy's actions.
#[test]
fn the_readme_lists_each_policys_actions() {
    let readme = std::fs::read_to_string(root().join("examples/iam/README.md")).unwrap();
    for feature in FEATURES {
        let row = format!("| `{feature}.json` |");
        let line = readme
            .lines()
            .find(|line| line.starts_with(&row))
            .unwrap_or_else(|| panic!("examples/iam/README.md has no row {row}"));
        let listed: BTreeSet<String> = line
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|word| is_iam_action(word))
            .map(str::to_owned)
            .collect();
        let policy = read_policy(&policy_path(feature)).expect("the policy");
        assert_eq!(
            listed,
            granted(&policy),
            "examples/iam/README.md, row {feature}.json"
        );
    }
}

/// Every permission the product names in a message (an error's remedy, a
/// preflight warning) is one a policy grants.
#[test]
fn permissions_named_in_messages_are_granted() {
    let source = read_source();
    let all: BTreeSet<String> = expected().0.into_values().flatten().collect();
    let stray: Vec<&(String, String)> = source
        .named_actions
        .iter()
        .filter(|(action, _)| !all.contains(action))
        .collect();
    assert!(
        stray.is_empty(),
        "named but granted by no policy: {stray:?}"
    );
}

/// The GitHub deployment is the one GitHub API the binary calls: every
/// route in the github module is under /repos/{repository}/deployments,
/// which takes `deployments: write`.
#[test]
fn the_workflow_permissions_cover_the_github_routes() {
    let mut text = std::fs::read_to_string(root().join("src/github.rs")).unwrap();
    for entry in std::fs::read_dir(root().join("src/github")).unwrap() {
        text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let routes: Vec<&str> = text
        .match_indices("\"/repos/")
        .map(|(at, _)| text[at + 1..].split('"').next().unwrap())
        .collect();
    assert!(!routes.is_empty(), "no /repos/ route in the github module");
    for route in &routes {
        let resource = route.split('/').nth(3).unwrap_or_default();
        assert_eq!(
            resource, "deployments",
            "route {route} needs a permission the example lacks"
        );
    }
    let yml = std::fs::read_to_string(root().join("examples/iam/github-permissions.yml")).unwrap();
    let fragment: Value = serde_yaml_ng::from_str(&yml).unwrap();
    let permissions = &fragment["permissions"];
    assert_eq!(permissions["deployments"], "write", "{yml}");
}
