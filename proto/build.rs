//! Compiles every `.proto` under `proto/portal` with protox (pure Rust, no system
//! `protoc`), generates prost messages and tonic clients and servers, and keeps
//! the encoded descriptor set for gRPC reflection. The generated code uses the
//! crate's own codec (`src/codec.rs`).

use std::{env, fs, io, path::Path, path::PathBuf};

fn proto_files(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            proto_files(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            found.push(path);
        }
    }
    Ok(())
}

/// The full names of every message of the portal's own packages, nested ones included.
fn portal_message_names(descriptors: &prost_types::FileDescriptorSet) -> Vec<String> {
    fn collect(prefix: &str, messages: &[prost_types::DescriptorProto], names: &mut Vec<String>) {
        for message in messages {
            let name = format!("{prefix}.{}", message.name());
            collect(&name, &message.nested_type, names);
            names.push(name);
        }
    }
    let mut names = Vec::new();
    for file in descriptors.file.iter().filter(|file| file.package().starts_with("portal.")) {
        collect(file.package(), &file.message_type, &mut names);
    }
    names
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let mut files = Vec::new();
    proto_files(&root.join("portal"), &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", root.join("portal").display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_source_info(true).include_imports(true).open_files(&files)?;
    let descriptors = compiler.file_descriptor_set();
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    // Encoded by the compiler, not from `descriptors`: prost_types drops extension
    // options, and reflection and the tests read `portal.common.v1.authorization`.
    fs::write(out_dir.join("portal_descriptor.bin"), compiler.encode_file_descriptor_set())?;

    let mut builder =
        tonic_prost_build::configure().generate_default_stubs(true).codec_path("crate::codec::PortalCodec");
    // Every portal message knows its descriptor (prost-reflect), which the codec walks to
    // check a request's text fields. Names without the leading dot match only themselves,
    // not the messages nested in them.
    for name in portal_message_names(&descriptors) {
        builder = builder.message_attribute(&name, "#[derive(::prost_reflect::ReflectMessage)]").message_attribute(
            &name,
            format!(r#"#[prost_reflect(descriptor_pool = "crate::DESCRIPTOR_POOL", message_name = "{name}")]"#),
        );
    }
    builder.compile_fds(descriptors)?;
    Ok(())
}
