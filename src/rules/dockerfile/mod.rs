pub mod add_remote_url_without_checksum;
pub mod build_image_used_at_runtime;
pub mod dynamic_binary_in_static_image;
pub mod image_not_pinned_by_digest;
pub mod image_runs_as_root;
pub mod image_tag_not_pinned;
pub mod secret_in_image;
pub mod shell_form_entrypoint;
