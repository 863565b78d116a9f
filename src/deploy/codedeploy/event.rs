//! What the codedeploy step tells a person (`crate::event`); `present::codedeploy` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {}
