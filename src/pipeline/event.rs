//! What the run as a whole tells a person (`crate::event`): its inputs, the
//! rendered definitions and their changes, the registered revisions, the dry
//! run's plan, each service's verdict, the steps' times and the outputs;
//! `present::pipeline` words it.

use std::path::PathBuf;
use std::time::SystemTime;

use serde_json::Value;

use crate::deploy::DeployResult;
use crate::diff::Difference;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// The command line could not be read (not UTF-8, an unknown flag).
    ArgumentsRejected {
        reason: String,
    },
    /// Every input problem, in the order of the input table.
    InputsInvalid {
        problems: Vec<String>,
    },
    HelpAsked,
    VersionAsked,
    /// A value the log must never show (the GitHub token, a secret's
    /// reference), before anything else is printed.
    Secret {
        value: String,
    },
    /// What a rendered definition changes against `against` (a revision's
    /// ARN, or the template's).
    Changes {
        against: String,
        changes: Vec<Difference>,
    },
    /// The whole rendered definition, in the dry run.
    Rendered {
        definition: Value,
    },
    /// `task-definition: previous`: where a service goes back to.
    GoingBack {
        service: String,
        to: String,
        from: String,
    },
    /// Going back to a revision that is not ACTIVE: registered again.
    RegisteringAgain {
        arn: String,
        status: String,
    },
    Registered {
        arn: String,
    },
    /// The rendered definition is what `service` runs: nothing registered.
    KeptRunning {
        service: String,
        arn: String,
    },
    /// The inputs change nothing in the template's revision: deployed as is.
    DeployingAsIs {
        arn: String,
    },
    DryRunRendered {
        family: String,
        path: PathBuf,
    },
    DryRunWouldLeave {
        service: String,
        cluster: String,
        runs: String,
    },
    DryRunWouldDeploy(WouldDeploy),
    DeployBegan,
    DeployEnded,
    Judged {
        service: String,
        deployment_id: String,
        result: DeployResult,
    },
    ExpressEndpointUnread {
        reason: String,
    },
    OldRevisionsUnread {
        reason: String,
    },
    /// Scheduled tasks and old revisions wait for a deployment's end,
    /// which was not followed.
    FollowUpsSkipped,
    /// GitHub did not take the final status before the cancellation's
    /// deadline.
    FinalStatusLate,
    StepTimed {
        step: &'static str,
        started: SystemTime,
        ended: SystemTime,
        failed: bool,
    },
    /// A deployment's id could not be written as an output; the run goes
    /// on (the deployment is under way).
    OutputUnwritten {
        reason: String,
    },
}

/// A service the dry run would move, and to what.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WouldDeploy {
    pub(crate) service: String,
    pub(crate) cluster: String,
    /// None: a new revision of `family`.
    pub(crate) revision: Option<String>,
    pub(crate) family: String,
    pub(crate) through_codedeploy: bool,
    pub(crate) runs: String,
}
