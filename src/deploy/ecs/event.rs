//! What the ecs step tells a person (`crate::event`); `present::ecs` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {}
