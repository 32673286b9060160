//! Integration tests: one binary, so it links once. Every test owns its database.

mod common;

mod alerts;
mod analytics;
mod auth;
mod cinevault;
mod collection;
mod commands;
mod demo;
mod http_basics;
mod ingest;
mod lifecycle;
mod openapi;
mod reliability;
mod rollup;
mod schema;
mod web;
