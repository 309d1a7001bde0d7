//! One integration binary: each concern in its own module.

mod util;

mod audit;
mod bad_input;
mod expiry;
mod git;
mod html;
mod output;
mod readme;
mod reports;
mod revoke;
mod rules;
mod scan;
mod sources;
mod validate;
