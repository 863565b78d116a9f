//! What the pipeline step tells a person (`crate::event`); `present::pipeline` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {}
