//! Integration tests: one binary, so it links once. Every test owns its database.

mod common;

mod auth;
mod demo;
mod http_basics;
mod lifecycle;
mod schema;
