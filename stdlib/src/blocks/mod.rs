//! The settings of `teacher NAME { ... }` and `student NAME { ... }` blocks.

pub mod student;
pub mod teacher;

use dtac_interpreter::signature::Signature;

pub const ALL: &[&Signature] = &[&teacher::SIGNATURE, &student::SIGNATURE];
