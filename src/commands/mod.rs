//! One module per subcommand: each turns arguments into options and calls the library.

pub mod emulator;
