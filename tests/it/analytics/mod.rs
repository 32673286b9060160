//! The 11 analytics endpoints: figures on a hand-built dataset with known answers, computed
//! with a pinned clock (`figures`), and the HTTP answers, parameters, clamping, cursor and
//! empty database through the real server (`http`).

mod figures;
mod http;
mod seed;
mod summaries;
