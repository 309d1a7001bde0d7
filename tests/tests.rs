//! One integration binary: each concern in its own module.

mod util;

mod audit;
mod bad_input;
mod detect_flood;
mod detect_generic;
mod git;
mod html;
mod output;
mod reports;
mod rules;
mod scan;
mod sources;
