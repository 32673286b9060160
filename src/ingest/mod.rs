//! Ingestion (decisions.md §2): the media server reports sessions, transcodes, stream
//! errors and its catalogue; each accepted report is committed before it is acknowledged.

pub mod apply;
pub mod events;
pub mod writer;

pub use events::Event;
pub use writer::{IngestWriter, Rejection};
