//! formatter
