//! Compiles every `.proto` under `proto/portal` with protox (pure Rust, no system
//! `protoc`), generates prost messages and tonic clients and servers, and keeps
//! the encoded descriptor set for gRPC reflection.

use std::{env, fs, io, path::Path, path::PathBuf};

use prost::Message;

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let mut files = Vec::new();
    proto_files(&root.join("portal"), &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", root.join("portal").display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptors = protox::compile(&files, [&root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("portal_descriptor.bin"), descriptors.encode_to_vec())?;

    tonic_prost_build::configure().generate_default_stubs(true).compile_fds(descriptors)?;
    Ok(())
}
