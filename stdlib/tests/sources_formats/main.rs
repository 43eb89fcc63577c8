//! CSV and Parquet sources and the export formats, through the stdlib's registered
//! implementations: recipes are checked and resolved as `dtac run` does, data files are
//! written by the tests themselves, and every export is read back with an independent
//! reader (the csv and parquet crates) as well as with dtac's own sources.

mod csv_source;
mod parquet_source;
mod pipeline;
mod raw_exports;
mod support;
mod trainer_exports;
