// syn's trees are many small allocations; mimalloc allocates and frees them markedly faster than
// the system allocator (measured in docs/performance.md), as ruff found for the same reason.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    prodlint::engine::install_panic_hook();
    std::process::exit(prodlint::cli::run(std::env::args_os()));
}
