//! One module per subcommand.
pub mod analyze;
pub mod audit;
pub mod migrate;
pub mod token;
pub mod user;
pub mod assess;
pub mod demo;
pub mod generate;
pub mod intel;
pub mod report;
pub mod sensor;
