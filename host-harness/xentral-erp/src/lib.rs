//! The emulated xentral database (placeholder; being written).
