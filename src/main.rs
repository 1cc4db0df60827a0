fn main() {
    prodlint::engine::install_panic_hook();
    std::process::exit(prodlint::cli::run(std::env::args_os()));
}
