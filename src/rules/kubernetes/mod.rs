pub mod missing_liveness_probe;
pub mod missing_memory_limit;
pub mod missing_readiness_probe;
