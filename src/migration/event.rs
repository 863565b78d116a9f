//! What the migration step tells a person (`crate::event`); `present::migration` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {}
