//! Alerting (spec "Alert System", decisions.md §4-§6): notification channels and alert
//! rules with their queries, the evaluator worker, and webhook delivery.
//!
//! Pure decisions: [`decide`] (does this rule fire?), [`message`] (what does it say?),
//! [`payload`] (what does Discord get?), [`policy`] (may we call this address?), [`retry`]
//! (try again, and when?), [`signature`]. I/O around them: [`sender`], [`evaluator`], and
//! one file of queries per table ([`channels`], [`rules`], [`log`], [`rule_state`],
//! [`inputs`]).

pub mod channels;
pub mod decide;
pub mod evaluator;
pub mod fields;
pub mod inputs;
pub mod kinds;
pub mod log;
pub mod message;
pub mod payload;
pub mod policy;
pub mod retry;
pub mod rule_state;
pub mod rules;
pub mod sender;
pub mod signature;

pub use evaluator::run;
