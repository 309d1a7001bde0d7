//! sprawl: find credentials sprawled across source trees, git history, notebooks and logs.
//!
//! Data flows one way: `source` yields chunks with provenance, the `matcher` confirms
//! secrets in them, `finding` fingerprints and locates them, `baseline` suppresses the known
//! ones, and `report` writes them out. `command` wires the command line to that pipeline.

pub mod atomic_file;
pub mod audit;
pub mod baseline;
pub mod cli;
pub mod codeowners;
pub mod command;
pub mod config;
pub mod expiry;
pub mod exposure;
pub mod finding;
pub mod fuzz;
pub mod git_scan;
pub mod hook;
pub mod inventory;
pub mod matcher;
pub mod progress;
pub mod report;
pub mod repos;
pub mod rules;
pub mod scan;
pub mod source;
pub mod store;
pub mod time;
pub mod validate;
