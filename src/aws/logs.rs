//! Following one CloudWatch Logs stream: every event printed once, in the
//! order written, by paging GetLogEvents forward from the head of the
//! stream with the token of the previous page.

use std::collections::VecDeque;

use anyhow::{anyhow, Result};
use aws_sdk_cloudwatchlogs::Client;

use super::{error_code, explain};

/// Lines kept for the failure message.
const RECENT_LINES: usize = 20;
/// Pages read in one drain; the rest waits for the next one.
const MAX_PAGES: usize = 100;

pub(crate) struct LogTail {
    client: Client,
    group: String,
    stream: String,
    /// The forward token of the last page read; None before the first.
    next_token: Option<String>,
    recent: VecDeque<String>,
}

impl LogTail {
    /// A tail of `group`/`stream`, read with `client` (of the log
    /// configuration's region).
    pub(crate) fn new(client: Client, group: &str, stream: &str) -> LogTail {
        LogTail {
            client,
            group: group.to_owned(),
            stream: stream.to_owned(),
            next_token: None,
            recent: VecDeque::new(),
        }
    }

    /// Hands `print` every event written since the last drain, in order, a
    /// page at a time as each arrives: a burst reaches the log as it is
    /// read, and only one page is held at once. A stream that does not
    /// exist yet (the container has not written) has none.
    pub(crate) async fn drain(&mut self, mut print: impl FnMut(&[String])) -> Result<()> {
        for _ in 0..MAX_PAGES {
            let sent = self.next_token.clone();
            let page = self
                .client
                .get_log_events()
                .log_group_name(&self.group)
                .log_stream_name(&self.stream)
                .start_from_head(true)
                .set_next_token(sent.clone())
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(()),
                Err(e) => {
                    return Err(anyhow!(
                        "failed to read log stream {} of group {}: {}",
                        self.stream,
                        self.group,
                        explain("logs:GetLogEvents", &e)
                    ));
                }
            };
            let lines: Vec<String> = page
                .events()
                .iter()
                .map(|event| {
                    let message = event.message().unwrap_or_default();
                    message.trim_end_matches(['\n', '\r']).to_owned()
                })
                .collect();
            for line in lines.iter().rev().take(RECENT_LINES).rev() {
                if self.recent.len() == RECENT_LINES {
                    self.recent.pop_front();
                }
                self.recent.push_back(line.clone());
            }
            if !lines.is_empty() {
                print(&lines);
            }
            // The same token back means the end of the stream for now.
            self.next_token = page.next_forward_token().map(String::from);
            if self.next_token.is_none() || self.next_token == sent {
                break;
            }
        }
        Ok(())
    }

    /// The last lines read, oldest first.
    pub(crate) fn recent(&self) -> impl Iterator<Item = &str> {
        self.recent.iter().map(String::as_str)
    }
}
