//! The synthetic corpus of the text benchmark: seeded, Zipf-distributed words, with
//! contaminated and duplicated records planted where the benchmark can count them.

/// SplitMix64: small, seeded, the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Words with Zipf frequencies (exponent 1): a few very common, a long tail.
pub struct Vocab {
    words: Vec<String>,
    cdf: Vec<f64>,
}

const SYLLABLES: [&str; 20] = [
    "ka", "lo", "mi", "ne", "ru", "ta", "po", "si", "de", "va", "gu", "ho", "ze", "fi", "bo", "ra",
    "te", "nu", "li", "so",
];

impl Vocab {
    pub fn new(size: usize) -> Vocab {
        // Word i spells i in base 20 with syllables: distinct by construction.
        let words = (0..size)
            .map(|i| {
                let mut n = i;
                let mut w = String::new();
                loop {
                    w.push_str(SYLLABLES[n % 20]);
                    n /= 20;
                    if n == 0 {
                        break;
                    }
                }
                w
            })
            .collect();
        let mut cdf = Vec::with_capacity(size);
        let mut total = 0.0;
        for rank in 1..=size {
            total += 1.0 / rank as f64;
            cdf.push(total);
        }
        cdf.iter_mut().for_each(|c| *c /= total);
        Vocab { words, cdf }
    }

    pub fn word(&self, rng: &mut Rng) -> &str {
        let u = rng.unit();
        let i = self
            .cdf
            .partition_point(|&c| c < u)
            .min(self.words.len() - 1);
        &self.words[i]
    }

    /// `n` words as prose: capitals after full stops, a comma or stop now and then.
    pub fn text(&self, rng: &mut Rng, n: usize) -> String {
        let mut out = String::with_capacity(n * 8);
        let mut capital = true;
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            let w = self.word(rng);
            if capital {
                let mut chars = w.chars();
                if let Some(c) = chars.next() {
                    out.push(c.to_ascii_uppercase());
                    out.push_str(chars.as_str());
                }
            } else {
                out.push_str(w);
            }
            capital = false;
            match rng.below(14) {
                0 => out.push(','),
                1 => {
                    out.push('.');
                    capital = true;
                }
                _ => {}
            }
        }
        out.push('.');
        out
    }
}

/// What the benchmark checks, and what was planted in it.
pub struct Corpus {
    /// Benchmark items (one text each).
    pub bench: Vec<String>,
    /// Records to clean (one text each).
    pub records: Vec<String>,
    /// Records carrying 13 to 20 consecutive words of a benchmark item.
    pub contaminated: usize,
    /// Records that copy an earlier record (exactly, or with case and spacing changed).
    pub exact_copies: usize,
    /// Records that copy an earlier record with about 1% of the words replaced.
    pub near_copies: usize,
}

impl Corpus {
    /// `records` records of 100–300 words and `bench` items of 40–120 words; 0.2% of the
    /// records contaminated, 3% exact copies, 3% near copies.
    pub fn generate(records: usize, bench: usize, seed: u64) -> Corpus {
        let vocab = Vocab::new(50_000);
        let mut rng = Rng::new(seed);
        let bench: Vec<String> = (0..bench)
            .map(|_| {
                let n = 40 + rng.below(81);
                vocab.text(&mut rng, n)
            })
            .collect();
        let mut out: Vec<String> = Vec::with_capacity(records);
        let (mut contaminated, mut exact_copies, mut near_copies) = (0, 0, 0);
        for _ in 0..records {
            let roll = rng.below(1000);
            let text = if roll < 2 && !bench.is_empty() {
                contaminated += 1;
                let item: Vec<&str> = bench[rng.below(bench.len())].split(' ').collect();
                let take = (13 + rng.below(8)).min(item.len());
                let from = rng.below(item.len() - take + 1);
                let before = 50 + rng.below(100);
                let after = 40 + rng.below(100);
                format!(
                    "{} {} {}",
                    vocab.text(&mut rng, before),
                    item[from..from + take].join(" "),
                    vocab.text(&mut rng, after)
                )
            } else if roll < 32 && !out.is_empty() {
                exact_copies += 1;
                let original = &out[rng.below(out.len())];
                if roll.is_multiple_of(2) {
                    original.clone()
                } else {
                    original.to_uppercase().replace(' ', "  ")
                }
            } else if roll < 62 && !out.is_empty() {
                near_copies += 1;
                let original = out[rng.below(out.len())].clone();
                original
                    .split(' ')
                    .map(|w| {
                        if rng.below(100) == 0 {
                            vocab.word(&mut rng).to_string()
                        } else {
                            w.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                let n = 100 + rng.below(201);
                vocab.text(&mut rng, n)
            };
            out.push(text);
        }
        Corpus {
            bench,
            records: out,
            contaminated,
            exact_copies,
            near_copies,
        }
    }

    pub fn bytes(&self) -> usize {
        self.records.iter().map(String::len).sum()
    }
}
