//! One module per subcommand.
pub mod analyze;
pub mod assess;
pub mod audit;
pub mod demo;
pub mod generate;
pub mod intel;
pub mod migrate;
pub mod report;
pub mod sensor;
pub mod serve;
pub mod token;
pub mod user;
