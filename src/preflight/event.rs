//! What the preflight step tells a person (`crate::event`); `present::preflight` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {}
