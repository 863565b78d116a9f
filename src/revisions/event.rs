//! What the revisions step tells a person (`crate::event`); `present::revisions` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {}
