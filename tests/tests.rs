//! One integration binary: each concern in its own module.

mod util;

mod audit;
mod bad_input;
mod detect_flood;
mod detect_generic;
mod expiry;
mod git;
mod git_history;
mod git_hook;
mod git_repos;
mod html;
mod output;
mod readme;
mod reports;
mod revoke;
mod rules;
mod scan;
mod sources;
mod validate;
