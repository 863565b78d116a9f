//! The integration tests, one module per file beside this one, built as one
//! binary: each test binary links the whole dependency graph, and twenty of
//! them took longer to build than the tests take to run.

mod common;

mod action_yml;
mod architecture;
mod cancel;
mod codedeploy;
mod deploy;
mod do_no_harm;
mod dropin;
mod express;
mod faults;
mod github;
mod handoff;
mod hostile;
mod iam_policies;
mod lifecycle;
mod migration;
mod official_inputs;
mod preflight;
mod register;
mod snapshots;
mod summary;
mod timings;
mod untrusted_text;
