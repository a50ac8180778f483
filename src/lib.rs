//! citewatch keeps the sources cited in published briefings honest.
//!
//! The data flow (see ARCHITECTURE.md): the briefing store is read into citations
//! ([`briefing`]), recorded in the store ([`store`]) by [`sync`]; later stages
//! fetch, archive, classify and report on them.

pub mod archive;
pub mod briefing;
pub mod check;
pub mod config;
pub mod error_text;
pub mod fetch;
pub mod output_file;
pub mod printable;
pub mod report;
pub mod server;
pub mod signals;
pub mod simweb;
pub mod source_url;
pub mod store;
pub mod sync;
pub mod time;
