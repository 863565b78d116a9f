//! The directories GitHub's runner gives one job (workspace, temp, file
//! commands, home), for running ecs-deploy the way the runner does: the
//! rehearsal and the benchmark share it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;

/// One job's directories (workspace, temp, file_commands, home, workflow).
pub struct JobDirectory {
    root: PathBuf,
    removed_on_drop: bool,
}

impl JobDirectory {
    /// Under the system temp dir, removed on drop; `purpose` names the
    /// directory (`ecs-deploy-<purpose>-<pid>-<n>`).
    pub fn create(purpose: &str) -> anyhow::Result<JobDirectory> {
        static CREATED: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "ecs-deploy-{purpose}-{}-{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        ));
        JobDirectory::make(root, true)
    }

    /// At `root`, kept afterwards, so that the files the job wrote (the
    /// rendered task definition, the summary) can be read. An earlier job's
    /// directory there is replaced; any other directory that holds files is
    /// refused, never emptied.
    pub fn kept_at(root: PathBuf) -> anyhow::Result<JobDirectory> {
        if root.join("file_commands").is_dir() && root.join("workspace").is_dir() {
            std::fs::remove_dir_all(&root)
                .with_context(|| format!("cannot empty {}", root.display()))?;
        } else if std::fs::read_dir(&root).is_ok_and(|mut entries| entries.next().is_some()) {
            anyhow::bail!(
                "{} holds files and is no earlier job's directory: give an empty or new one",
                root.display()
            );
        }
        JobDirectory::make(root, false)
    }

    fn make(root: PathBuf, removed_on_drop: bool) -> anyhow::Result<JobDirectory> {
        for sub in ["workspace", "temp", "file_commands", "home", "workflow"] {
            std::fs::create_dir_all(root.join(sub))
                .with_context(|| format!("cannot create {}", root.join(sub).display()))?;
        }
        Ok(JobDirectory {
            root,
            removed_on_drop,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// A file the job wrote (step outputs, summary); empty when absent.
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap_or_default()
    }

    /// The variables the runner sets for a container action's file commands.
    pub fn runner_env(&self) -> Vec<(String, String)> {
        let path = |relative: &str| self.path(relative).display().to_string();
        [
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_WORKSPACE", path("workspace")),
            ("RUNNER_TEMP", path("temp")),
            ("GITHUB_OUTPUT", path("file_commands/output")),
            ("GITHUB_STEP_SUMMARY", path("file_commands/summary")),
            ("GITHUB_ENV", path("file_commands/env")),
            ("GITHUB_STATE", path("file_commands/state")),
            // Keeps this machine's AWS configuration files out of the run.
            ("AWS_CONFIG_FILE", path("home/aws-config")),
            ("AWS_SHARED_CREDENTIALS_FILE", path("home/aws-credentials")),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
    }
}

impl Drop for JobDirectory {
    fn drop(&mut self) {
        if self.removed_on_drop {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_job_directory_replaces_only_an_earlier_job() {
        let root = std::env::temp_dir().join(format!("ecs-deploy-job-test-{}", std::process::id()));
        let job = JobDirectory::kept_at(root.clone()).unwrap();
        std::fs::write(job.path("file_commands/output"), "a=1\n").unwrap();
        drop(job);
        let again = JobDirectory::kept_at(root.clone()).unwrap();
        assert_eq!(again.read("file_commands/output"), "");

        let other = root.join("workspace/notes");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("keep.txt"), "mine").unwrap();
        let refused = JobDirectory::kept_at(other.clone()).err().unwrap();
        assert_eq!(
            refused.to_string(),
            format!(
                "{} holds files and is no earlier job's directory: give an empty or new one",
                other.display()
            )
        );
        assert_eq!(
            std::fs::read_to_string(other.join("keep.txt")).unwrap(),
            "mine"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
