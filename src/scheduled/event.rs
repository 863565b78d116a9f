//! What the scheduled step tells a person (`crate::event`); `present::scheduled` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {}
