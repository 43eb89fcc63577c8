//! Packing sequences into batches under a token budget. Sequences are sorted longest
//! first, so each batch is padded to its first (longest) member and neighbours in a batch
//! have similar lengths; a batch grows while `rows × longest ≤ budget`. A sequence longer
//! than the budget runs alone: the budget bounds padding, it never refuses work.

/// Indices of `lengths`, grouped into batches; every index appears exactly once.
pub fn plan_batches(lengths: &[usize], budget_tokens: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // Stable, so equal lengths keep their input order (and runs are reproducible).
    order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        let longest = current.first().map_or(lengths[i], |&f| lengths[f]);
        if !current.is_empty() && (current.len() + 1) * longest > budget_tokens {
            batches.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_the_budget_and_cover_every_item() {
        let lengths = [5, 9, 2, 9, 30, 1, 4];
        let batches = plan_batches(&lengths, 20);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
        for batch in &batches {
            let longest = batch.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(batch.len() == 1 || batch.len() * longest <= 20, "{batch:?}");
            assert_eq!(longest, lengths[batch[0]]);
        }
        assert_eq!(batches[0], vec![4], "the over-budget item runs alone");
        assert_eq!(batches[1], vec![1, 3], "equal lengths keep input order");
    }

    #[test]
    fn zero_budget_runs_everything_alone() {
        assert_eq!(plan_batches(&[3, 1, 2], 0), vec![vec![0], vec![2], vec![1]]);
        assert!(plan_batches(&[], 10).is_empty());
    }
}
