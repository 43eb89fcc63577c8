fn main() {
    let path = std::env::args().nth(1).unwrap();
    let src = std::fs::read_to_string(path).unwrap();
    match dtac_grammar::parse(&src) {
        Ok(f) => println!("OK {} items", f.items.len()),
        Err(errs) => {
            for e in errs {
                let (l, c) = dtac_grammar::line_col(&src, e.span().start);
                println!("{l}:{c}: {e} | {:?}", e);
            }
        }
    }
}
