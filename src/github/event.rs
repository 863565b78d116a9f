//! What the github step tells a person (`crate::event`); `present::github` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {}
