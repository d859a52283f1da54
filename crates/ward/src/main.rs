//! The `ward` command line. It holds no logic of its own: each subcommand wires crates.

fn main() {
    println!("ward");
}
