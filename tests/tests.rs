//! One integration binary: each concern in its own module.

mod util;

mod audit;
mod audit_html;
mod audit_kit;
mod audit_validate;
mod bad_input;
mod deploy;
mod detect_flood;
mod detect_generic;
mod expiry;
mod fuzz_targets;
mod git;
mod git_history;
mod git_hook;
mod git_pack;
mod git_repos;
mod html;
mod memory;
mod org;
mod output;
mod readme;
mod redaction;
mod report_fields;
mod reports;
mod revoke;
mod rules;
mod scan;
mod side_routes;
mod sources;
mod validate;
