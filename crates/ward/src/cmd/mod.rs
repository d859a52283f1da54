//! One module per subcommand.
pub mod analyze;
pub mod assess;
pub mod demo;
pub mod generate;
pub mod intel;
pub mod report;
pub mod sensor;
pub mod serve;
